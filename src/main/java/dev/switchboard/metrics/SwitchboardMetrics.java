package dev.switchboard.metrics;

import dev.switchboard.protocol.CloseCodes;
import dev.switchboard.protocol.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;

import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Every meter Switchboard registers, by name, and the one object per Vert.x instance that holds
 * them (every verticle of a node gets the same one through {@link #of}). Meters are registered up
 * front, so a message costs an increment, never a lookup by tag. No label ever holds a user or
 * message id: each label's values are a short fixed list (protocols, error codes, close codes,
 * gateway instances). Gauges hold what they read strongly: Micrometer's default weak reference
 * would let a supplier be collected and the gauge turn to NaN.
 *
 * <p>docs/operations.md describes each meter as Prometheus shows it (dots become underscores,
 * counters end in {@code _total}, timers in {@code _seconds}).
 */
public final class SwitchboardMetrics implements Shareable {

  /** Gauge, {@code protocol} = v1|text: WebSocket sessions open on this node. */
  public static final String SESSIONS_OPEN = "switchboard.sessions.open";
  /** Counter, {@code protocol}: sessions accepted (authenticated and within limits). */
  public static final String CONNECTS = "switchboard.connects";
  /** Counter, {@code code}: sessions ended, by WebSocket close code ({@code none} when the TCP connection dropped). */
  public static final String DISCONNECTS = "switchboard.disconnects";
  /** Counter: client sends stored (first time; retries of the same id are {@link #DUPLICATES}). */
  public static final String ACCEPTED = "switchboard.messages.accepted";
  /** Counter: client sends answered as duplicates of a stored one (a retry with the same id). */
  public static final String DUPLICATES = "switchboard.messages.duplicates";
  /** Counter, {@code code} = error code: client sends refused. */
  public static final String REFUSED = "switchboard.messages.refused";
  /** Counter, {@code path} = live|backlog: messages written to sessions. */
  public static final String DELIVERED = "switchboard.messages.delivered";
  /** Counter, {@code outcome} = accepted|duplicate|error code: pushes over HTTP and the event bus. */
  public static final String PUSHES = "switchboard.pushes";
  /** Counter, {@code outcome} = delivered|rate_limited|overloaded|offline|slow_reader: ephemeral signals. */
  public static final String SIGNALS = "switchboard.signals";
  /** Timer (histogram): one inbox commit, from the store's start to its answer. */
  public static final String STORE_COMMIT = "switchboard.store.commit";
  /** Distribution (histogram): copies (one per recipient) in one inbox commit. */
  public static final String STORE_BATCH = "switchboard.store.batch.copies";
  /** Timer (histogram): one inbox read (a page of backlog, or the health probe's). */
  public static final String STORE_READ = "switchboard.store.read";
  /** Counter, log engine only: bytes written to its files (records, cursor moves, compaction). */
  public static final String STORE_WRITTEN = "switchboard.store.written.bytes";
  /** Counter, log engine only: syncs ({@code fsync}/{@code fdatasync}) of its files and directory. */
  public static final String STORE_SYNCS = "switchboard.store.syncs";
  /** Gauge, log engine only: sealed segments the background check found matching their index since start. */
  public static final String SEGMENTS_VERIFIED = "switchboard.store.segments.verified";
  /** Gauge, log engine only: sealed segments taken from their index at start that the background check has yet to read. */
  public static final String SEGMENTS_UNVERIFIED = "switchboard.store.segments.unverified";
  /** Gauge, log engine only: sealed segments found damaged since start (by the background check or a read). */
  public static final String SEGMENTS_CORRUPT = "switchboard.store.segments.corrupt";
  /** Counter, {@code op} = append|read|purge: store operations that failed. */
  public static final String STORE_ERRORS = "switchboard.store.errors";
  /** Gauge, {@code stage} = router|inbox: copies accepted for storing and not yet committed. */
  public static final String QUEUED = "switchboard.store.queued.copies";
  /** Gauge, {@code gateway} = instance name: how late the gateway loop's last check timer ran. */
  public static final String LOOP_LAG = "switchboard.gateway.loop.lag";
  /** Gauge: gateway instances of this node whose loop is behind (new messages refused meanwhile). */
  public static final String GATEWAYS_BEHIND = "switchboard.gateways.behind";
  /** Timer (histogram), {@code op} = join|leave|lookup: user directory operations. */
  public static final String DIRECTORY = "switchboard.directory";
  /** Counter: committed copies handed to another node for its sessions. */
  public static final String RELAYED_OUT = "switchboard.cluster.relayed.out";
  /** Counter: copies another node handed to this node's sessions. */
  public static final String RELAYED_IN = "switchboard.cluster.relayed.in";
  /** Gauge: members of the cluster this node sees (1 when not clustered). */
  public static final String MEMBERS = "switchboard.cluster.members";

  /**
   * Counter, {@code outcome} = written|muted|queue_full|directory|expired|posted: offline
   * notifications, as the router decided on them (written to the queue, or skipped because the
   * recipient muted the sender, {@code webhook.maxQueued} was reached, or the user directory could
   * not say who is online) and as the dispatcher ended them (posted with a 2xx answer, or removed
   * by retention before that).
   */
  public static final String WEBHOOK_NOTIFICATIONS = "switchboard.webhook.notifications";
  /** Counter, {@code result} = ok|failed: webhook POSTs (failed: error, timeout or a status other than 2xx). */
  public static final String WEBHOOK_POSTS = "switchboard.webhook.posts";
  /** Timer (histogram): one webhook POST, from sending to the receiver's answer (or failure). */
  public static final String WEBHOOK_POST = "switchboard.webhook.post";
  /** Gauge: notifications waiting to be posted, as this node last heard it from the dispatcher (plus its own writes since). */
  public static final String WEBHOOK_QUEUED = "switchboard.webhook.queued";

  private static final String SHARED_MAP = "switchboard.metrics";
  private static final String SHARED_KEY = "meters";

  /** Bucket bounds of the latency timers: store and directory calls take from 100 µs to seconds. */
  private static final Duration[] LATENCY_BUCKETS = {Duration.ofNanos(250_000), Duration.ofNanos(500_000),
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
      Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
      Duration.ofSeconds(5)};
  /** Bucket bounds of copies per commit, up to {@code inbox.batchMaxMessages}'s usual range. */
  private static final double[] BATCH_BUCKETS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

  /** The close codes the server sends, plus the usual client ones; anything else counts as {@code other}. */
  private static final short[] KNOWN_CLOSE_CODES = {1000, 1001, 1005, 1006, CloseCodes.PROTOCOL_ERROR,
      CloseCodes.INVALID_PAYLOAD, CloseCodes.POLICY_VIOLATION, CloseCodes.MESSAGE_TOO_BIG, CloseCodes.INTERNAL_ERROR,
      CloseCodes.SERVICE_RESTART, CloseCodes.IDLE_TIMEOUT, CloseCodes.TOKEN_EXPIRED, CloseCodes.RATE_LIMITED};

  private final MeterRegistry registry;
  private final boolean enabled;

  private final AtomicInteger openV1 = new AtomicInteger();
  private final AtomicInteger openText = new AtomicInteger();
  private final Counter connectsV1;
  private final Counter connectsText;
  private final Map<Short, Counter> disconnects = new HashMap<>();
  private final Counter disconnectsOther;
  private final Counter disconnectsNone;
  private final Counter accepted;
  private final Counter duplicates;
  private final Map<ErrorCode, Counter> refused = new EnumMap<>(ErrorCode.class);
  private final Counter deliveredLive;
  private final Counter deliveredBacklog;
  private final Counter pushesAccepted;
  private final Counter pushesDuplicate;
  private final Map<ErrorCode, Counter> pushesRefused = new EnumMap<>(ErrorCode.class);
  private final Timer storeCommit;
  private final DistributionSummary storeBatch;
  private final Timer storeRead;
  private final Counter appendErrors;
  private final Counter readErrors;
  private final Counter purgeErrors;
  private final Timer directoryJoin;
  private final Timer directoryLeave;
  private final Timer directoryLookup;
  private final Counter relayedOut;
  private final Counter relayedIn;
  private final Map<String, Counter> webhookNotifications = new HashMap<>();
  private final Counter webhookPostsOk;
  private final Counter webhookPostsFailed;
  private final Timer webhookPost;
  private volatile LongSupplier webhookQueued = () -> 0;

  private volatile LongSupplier logBytesWritten;
  private volatile LongSupplier segmentsVerified;
  private volatile LongSupplier segmentsUnverified;
  private volatile Supplier<List<String>> damagedSegments = List::of;
  private volatile LongSupplier logSyncs;
  private volatile LongSupplier routerQueued = () -> 0;
  private volatile LongSupplier inboxQueued = () -> 0;
  /** Set by the router as gateways report; volatile, as the readiness check reads it on another loop. */
  private volatile int gatewaysBehind;
  /** Whether the inbox's last commit failed: the node is then not ready. */
  private volatile boolean storeFailing;
  private final Map<String, Gauge> loopLags = new HashMap<>();

  private SwitchboardMetrics(MeterRegistry registry, boolean enabled, Vertx vertx) {
    this.registry = registry;
    this.enabled = enabled;
    Gauge.builder(SESSIONS_OPEN, openV1, AtomicInteger::get).tag("protocol", "v1")
        .description("WebSocket sessions open").register(registry);
    Gauge.builder(SESSIONS_OPEN, openText, AtomicInteger::get).tag("protocol", "text")
        .description("WebSocket sessions open").register(registry);
    connectsV1 = counter(CONNECTS, "sessions accepted", "protocol", "v1");
    connectsText = counter(CONNECTS, "sessions accepted", "protocol", "text");
    for (short code : KNOWN_CLOSE_CODES) {
      disconnects.put(code, counter(DISCONNECTS, "sessions ended", "code", Short.toString(code)));
    }
    disconnectsOther = counter(DISCONNECTS, "sessions ended", "code", "other");
    disconnectsNone = counter(DISCONNECTS, "sessions ended", "code", "none");
    accepted = counter(ACCEPTED, "client sends stored");
    duplicates = counter(DUPLICATES, "client sends answered as duplicates");
    deliveredLive = counter(DELIVERED, "messages written to sessions", "path", "live");
    deliveredBacklog = counter(DELIVERED, "messages written to sessions", "path", "backlog");
    pushesAccepted = counter(PUSHES, "pushes by outcome", "outcome", "accepted");
    pushesDuplicate = counter(PUSHES, "pushes by outcome", "outcome", "duplicate");
    for (ErrorCode code : ErrorCode.values()) {
      refused.put(code, counter(REFUSED, "client sends refused", "code", code.wireName()));
      pushesRefused.put(code, counter(PUSHES, "pushes by outcome", "outcome", code.wireName()));
    }
    storeCommit = timer(STORE_COMMIT, "inbox commits");
    storeBatch = DistributionSummary.builder(STORE_BATCH).description("copies per inbox commit")
        .serviceLevelObjectives(BATCH_BUCKETS).register(registry);
    storeRead = timer(STORE_READ, "inbox reads");
    appendErrors = counter(STORE_ERRORS, "failed store operations", "op", "append");
    readErrors = counter(STORE_ERRORS, "failed store operations", "op", "read");
    purgeErrors = counter(STORE_ERRORS, "failed store operations", "op", "purge");
    Gauge.builder(QUEUED, this, m -> m.routerQueued.getAsLong()).tag("stage", "router")
        .description("copies waiting for the store").register(registry);
    Gauge.builder(QUEUED, this, m -> m.inboxQueued.getAsLong()).tag("stage", "inbox")
        .description("copies waiting for the store").register(registry);
    Gauge.builder(GATEWAYS_BEHIND, this, m -> m.gatewaysBehind)
        .description("gateway instances whose event loop is behind").register(registry);
    directoryJoin = timer(DIRECTORY, "user directory operations", "op", "join");
    directoryLeave = timer(DIRECTORY, "user directory operations", "op", "leave");
    directoryLookup = timer(DIRECTORY, "user directory operations", "op", "lookup");
    relayedOut = counter(RELAYED_OUT, "copies relayed to other nodes");
    relayedIn = counter(RELAYED_IN, "copies relayed from other nodes");
    for (String outcome : new String[] {"written", "muted", "queue_full", "directory", "expired", "posted"}) {
      webhookNotifications.put(outcome, counter(WEBHOOK_NOTIFICATIONS, "offline notifications by outcome", "outcome", outcome));
    }
    webhookPostsOk = counter(WEBHOOK_POSTS, "webhook POSTs by result", "result", "ok");
    webhookPostsFailed = counter(WEBHOOK_POSTS, "webhook POSTs by result", "result", "failed");
    webhookPost = timer(WEBHOOK_POST, "webhook POSTs");
    Gauge.builder(WEBHOOK_QUEUED, this, m -> m.webhookQueued.getAsLong())
        .description("offline notifications waiting to be posted").register(registry);
    ClusterView cluster = new ClusterView(vertx);
    Gauge.builder(MEMBERS, cluster, ClusterView::members).strongReference(true)
        .description("cluster members seen").register(registry);
  }

  /**
   * This Vert.x instance's meters: registered in the Prometheus registry when Vert.x runs with
   * {@link #vertxOptions()}, else kept nowhere (every call still works and costs next to nothing).
   */
  public static SwitchboardMetrics of(Vertx vertx) {
    return vertx.sharedData().<String, SwitchboardMetrics>getLocalMap(SHARED_MAP)
        .computeIfAbsent(SHARED_KEY, k -> create(vertx));
  }

  private static SwitchboardMetrics create(Vertx vertx) {
    MeterRegistry registry = vertx.isMetricsEnabled() ? BackendRegistries.getDefaultNow() : null;
    return registry == null
        ? new SwitchboardMetrics(new CompositeMeterRegistry(), false, vertx)
        : new SwitchboardMetrics(registry, true, vertx);
  }

  /**
   * The metrics options Vert.x is built with when {@code metrics.enabled}: Prometheus, with JVM
   * meters, and Vert.x's own meters of the HTTP servers (push API requests by status, WebSockets
   * open, bytes) and of the worker pools (how long store work waits for a thread). Its event-bus
   * meters are off: they look a meter up by address for every message, several times per client
   * message, and Switchboard's own meters already show what crosses the bus (sends stored,
   * deliveries, copies queued and relayed) at one increment each.
   */
  public static MicrometerMetricsOptions vertxOptions() {
    return new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
  }

  /** Whether meters are kept (Vert.x runs with metrics), so that {@code /metrics} has something to show. */
  public boolean enabled() {
    return enabled;
  }

  /** The Prometheus registry to scrape, or null when metrics are off. */
  public PrometheusMeterRegistry prometheus() {
    return registry instanceof PrometheusMeterRegistry prometheus ? prometheus : null;
  }

  // Sessions

  public void connected(boolean v1) {
    (v1 ? openV1 : openText).incrementAndGet();
    (v1 ? connectsV1 : connectsText).increment();
  }

  /** {@code code} is the close code the session ended with, null when there was none. */
  public void disconnected(boolean v1, Short code) {
    (v1 ? openV1 : openText).decrementAndGet();
    (code == null ? disconnectsNone : disconnects.getOrDefault(code, disconnectsOther)).increment();
  }

  public int sessionsOpen() {
    return openV1.get() + openText.get();
  }

  // Messages

  /** Client sends of one answered send batch: those stored, and those answered as duplicates. */
  public void accepted(int stored, int duplicated) {
    add(accepted, stored);
    add(duplicates, duplicated);
  }

  public void refused(ErrorCode code) {
    refused.get(code).increment();
  }

  /** Messages written to sessions by one delivery batch or backlog page, by path. */
  public void delivered(int live, int backlog) {
    add(deliveredLive, live);
    add(deliveredBacklog, backlog);
  }

  /** Counts a batch with one update of the shared counter, not one per message. */
  private static void add(Counter counter, int n) {
    if (n > 0) {
      counter.increment(n);
    }
  }

  /**
   * A signal's fate: {@code delivered} (to a node with sessions of its recipient), or why it was
   * dropped ({@code rate_limited}, {@code overloaded}, {@code offline}, {@code slow_reader}).
   */
  public void signal(String outcome) {
    registry.counter(SIGNALS, "outcome", outcome).increment();
  }

  public void pushAccepted(boolean duplicate) {
    (duplicate ? pushesDuplicate : pushesAccepted).increment();
  }

  public void pushRefused(ErrorCode code) {
    pushesRefused.get(code).increment();
  }

  // Store

  /** A commit of {@code copies} copies took {@code nanos}; failed tells whether it did not commit. */
  public void committed(int copies, long nanos, boolean failed) {
    storeCommit.record(nanos, TimeUnit.NANOSECONDS);
    storeBatch.record(copies);
    storeFailing = failed;
    if (failed) {
      appendErrors.increment();
    }
  }

  public void read(long nanos, boolean failed) {
    storeRead.record(nanos, TimeUnit.NANOSECONDS);
    if (failed) {
      readErrors.increment();
    }
  }

  public void purgeFailed() {
    purgeErrors.increment();
  }

  /** Whether the inbox's last commit failed. */
  public boolean storeFailing() {
    return storeFailing;
  }

  /**
   * Where {@link #STORE_WRITTEN} and {@link #STORE_SYNCS} read from: totals the log engine keeps.
   * Registered on the first call only, so that the other engines show no meters that would read 0.
   */
  public synchronized void watchLogFiles(LongSupplier bytesWritten, LongSupplier syncs) {
    boolean first = logBytesWritten == null;
    logBytesWritten = bytesWritten;
    logSyncs = syncs;
    if (first) {
      FunctionCounter.builder(STORE_WRITTEN, this, m -> m.logBytesWritten.getAsLong()).baseUnit("bytes")
          .description("bytes written to the log engine's files").register(registry);
      FunctionCounter.builder(STORE_SYNCS, this, m -> m.logSyncs.getAsLong())
          .description("syncs of the log engine's files and directory").register(registry);
    }
  }

  /**
   * Where {@link #SEGMENTS_VERIFIED}, {@link #SEGMENTS_UNVERIFIED} and {@link #SEGMENTS_CORRUPT} read
   * from: the log engine's check of its sealed segments. Registered on the first call only, as
   * {@link #watchLogFiles} is; the damaged files also feed the {@code /health} check.
   */
  public synchronized void watchLogCheck(LongSupplier verified, LongSupplier unverified,
                                         Supplier<List<String>> damaged) {
    boolean first = segmentsVerified == null;
    segmentsVerified = verified;
    segmentsUnverified = unverified;
    damagedSegments = damaged;
    if (first) {
      Gauge.builder(SEGMENTS_VERIFIED, this, m -> m.segmentsVerified.getAsLong())
          .description("sealed log segments checked against their index since start").register(registry);
      Gauge.builder(SEGMENTS_UNVERIFIED, this, m -> m.segmentsUnverified.getAsLong())
          .description("sealed log segments still to check against their index").register(registry);
      Gauge.builder(SEGMENTS_CORRUPT, this, m -> m.damagedSegments.get().size())
          .description("sealed log segments found damaged since start").register(registry);
    }
  }

  /** The log engine's sealed segments found damaged since start (none for the other engines). */
  public List<String> damagedSegments() {
    return damagedSegments.get();
  }

  /** Where {@link #QUEUED}{@code {stage=router}} reads from: the router's batcher. */
  public void watchRouterQueue(LongSupplier copies) {
    routerQueued = copies;
  }

  /** Where {@link #QUEUED}{@code {stage=inbox}} reads from: the inbox verticle's queue. */
  public void watchInboxQueue(LongSupplier copies) {
    inboxQueued = copies;
  }

  // Load

  /** How many gateway instances are behind, as the router (which hears from every gateway) counts them. */
  public void gatewaysBehind(int count) {
    gatewaysBehind = count;
  }

  public int gatewaysBehind() {
    return gatewaysBehind;
  }

  /** Shows a gateway instance's loop lag until {@link #unwatchLoopLag} (its verticle stops). */
  public synchronized void watchLoopLag(String gateway, LongSupplier lagMillis) {
    unwatchLoopLag(gateway);
    loopLags.put(gateway, Gauge.builder(LOOP_LAG, lagMillis, LongSupplier::getAsLong).strongReference(true).tag("gateway", gateway)
        .baseUnit("milliseconds").description("lateness of the gateway loop's check timer").register(registry));
  }

  public synchronized void unwatchLoopLag(String gateway) {
    Gauge gauge = loopLags.remove(gateway);
    if (gauge != null) {
      registry.remove(gauge);
    }
  }

  // Cluster

  /** Times a user directory operation ({@code join}, {@code leave} or {@code lookup}) and passes it on. */
  public <T> Future<T> directory(String op, Future<T> operation) {
    Timer timer = switch (op) {
      case "join" -> directoryJoin;
      case "leave" -> directoryLeave;
      default -> directoryLookup;
    };
    long started = System.nanoTime();
    return operation.andThen(done -> timer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS));
  }

  public void relayedOut(int copies) {
    relayedOut.increment(copies);
  }

  public void relayedIn(int copies) {
    relayedIn.increment(copies);
  }

  // Webhook

  /** Where {@link #WEBHOOK_QUEUED} reads from: the router's view of the webhook queue. */
  public void watchWebhookQueue(LongSupplier queued) {
    webhookQueued = queued;
  }

  /** Notifications written to the webhook queue. */
  public void webhookWritten(int count) {
    add(webhookNotifications.get("written"), count);
  }

  /** Notifications not written: {@code reason} = muted|queue_full|directory. */
  public void webhookSkipped(String reason, int count) {
    add(webhookNotifications.get(reason), count);
  }

  /** Notifications the dispatcher ended: {@code outcome} = posted|expired. */
  public void webhookEnded(String outcome, int count) {
    add(webhookNotifications.get(outcome), count);
  }

  public void webhookPosted(boolean ok, long nanos) {
    (ok ? webhookPostsOk : webhookPostsFailed).increment();
    webhookPost.record(nanos, TimeUnit.NANOSECONDS);
  }

  private Counter counter(String name, String description, String... tags) {
    return Counter.builder(name).description(description).tags(tags).register(registry);
  }

  /**
   * Latency histograms on a dozen fixed buckets: enough to read a p99 within a factor of about 2,
   * while each recording finds its bucket among 13 rather than Micrometer's ~70 percentile ones.
   */
  private Timer timer(String name, String description, String... tags) {
    return Timer.builder(name).description(description).tags(tags).serviceLevelObjectives(LATENCY_BUCKETS)
        .register(registry);
  }
}
