package dev.switchboard.webhook;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.Notification;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.bus.SystemInboxes;
import dev.switchboard.config.WebhookConfig;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.JsonWriter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Posts the offline notifications of {@link SystemInboxes#WEBHOOK} to {@code webhook.url}, in
 * order, in batches of up to {@code webhook.batchMaxNotifications}, signed by {@link WebhookSigner}.
 * Its cursor in that inbox moves only after the receiver answered 2xx; anything else is retried
 * after a {@link Backoff}, forever (until retention removes the notifications). So a notification
 * is posted at least once: after a crash, the batch in flight (and any whose cursor move had not
 * reached the store) is posted again, with the same ids.
 *
 * <p>With the shared PostgreSQL store every node runs one, and a cluster-wide lock lets exactly one
 * of them dispatch; the others wait for the lock, which the cluster frees when its holder leaves.
 * With an embedded store each node dispatches its own queue.
 */
public final class WebhookVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookVerticle.class);
  private static final String LOCK = "switchboard.webhook.dispatcher";
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final WebhookConfig config;
  /** Whether the queue is the whole cluster's (PostgreSQL) rather than this node's (the log engine). */
  private final boolean shared;
  private final DeliveryOptions reach;
  private HttpClient client;
  private WebhookSigner signer;
  private Backoff backoff;
  private SwitchboardMetrics metrics;
  private MessageConsumer<JsonObject> wakeConsumer;
  private Lock lock;
  /** The last seq posted (or known gone); null until the first read, which starts from the stored cursor. */
  private Long after;
  private boolean running;
  private boolean busy;
  /** A wake-up came while a read or post was in flight: read again once it ends. */
  private boolean wokenWhileBusy;
  private boolean stopped;
  private int failures;
  private long timer = -1;

  public WebhookVerticle(WebhookConfig config, boolean shared) {
    this.config = config;
    this.shared = shared;
    this.reach = new DeliveryOptions().setLocalOnly(!shared);
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) Math.min(Integer.MAX_VALUE,
        config.timeoutMillis())));
    signer = new WebhookSigner(config.secret());
    backoff = new Backoff(config.retryInitialMillis(), config.retryMaxMillis(), () -> ThreadLocalRandom.current().nextDouble());
    metrics = SwitchboardMetrics.of(vertx);
    wakeConsumer = shared
        ? vertx.eventBus().consumer(Addresses.WEBHOOK_WAKE, this::onWake)
        : vertx.eventBus().localConsumer(Addresses.WEBHOOK_WAKE, this::onWake);
    return wakeConsumer.completion().onSuccess(v -> acquire());
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    cancelTimer();
    if (lock != null) {
      lock.release();
    }
    return client.close();
  }

  /** Takes the dispatcher's lock (shared queue only), trying again each poll interval while another node holds it. */
  private void acquire() {
    if (!shared) {
      begin();
      return;
    }
    vertx.sharedData().getLockWithTimeout(LOCK, config.pollIntervalMillis())
        .onSuccess(held -> {
          if (stopped) {
            held.release();
            return;
          }
          lock = held;
          begin();
        })
        .onFailure(e -> {
          if (!stopped) {
            LOG.debug("webhook dispatcher lock held elsewhere: {}", e.getMessage());
            timer = vertx.setTimer(1, id -> acquire());
          }
        });
  }

  private void begin() {
    running = true;
    LOG.info("webhook dispatcher started: posting offline notifications to {}", config.url());
    pump();
  }

  private void onWake(Message<JsonObject> message) {
    if (!running || failures > 0) {
      return; // a failing receiver is retried on the back-off's schedule, not on every new message
    }
    if (busy) {
      wokenWhileBusy = true;
    } else {
      pump();
    }
  }

  /** Reads the next batch after the cursor and posts it; then again at once, on a wake-up, or after the poll interval or back-off. */
  private void pump() {
    if (!running || busy || stopped) {
      return;
    }
    cancelTimer();
    busy = true;
    wokenWhileBusy = false;
    ReadRequest read = new ReadRequest(SystemInboxes.WEBHOOK, SystemInboxes.WEBHOOK_DISPATCHER, after,
        config.batchMaxNotifications());
    vertx.eventBus().<InboxPage>request(Addresses.INBOX_READ, read.toJson(), new DeliveryOptions(LOCAL)
            .setSendTimeout(Math.max(config.timeoutMillis(), 10_000)))
        .map(Message::body)
        .compose(this::dispatch)
        .onComplete(done -> {
          busy = false;
          if (stopped) {
            return;
          }
          if (done.failed()) {
            failures++;
            long delay = backoff.delayMillis(failures);
            LOG.warn("webhook delivery failed ({} in a row), retrying in {} ms: {}", failures, delay,
                done.cause().getMessage());
            timer = vertx.setTimer(delay, id -> pump());
          } else {
            failures = 0;
            if (done.result() || wokenWhileBusy) {
              pump();
            } else {
              timer = vertx.setTimer(config.pollIntervalMillis(), id -> pump());
            }
          }
        });
  }

  /** Posts one page; true when more may be waiting. Fails when the receiver did not take it. */
  private Future<Boolean> dispatch(InboxPage page) {
    long from = after != null ? after : page.after();
    after = from;
    if (page.messages().isEmpty()) {
      if (page.head() > from) {
        gone(page.head() - from, page.head());
      }
      report(page.head());
      return Future.succeededFuture(false);
    }
    StoredMessage first = page.messages().get(0);
    if (first.seq() > from + 1) {
      LOG.warn("{} offline notifications were removed by retention before they could be posted", first.seq() - from - 1);
      metrics.webhookEnded("expired", (int) (first.seq() - from - 1));
    }
    JsonWriter batch = new JsonWriter(256 * page.messages().size()).beginObject().beginArray("notifications");
    int written = 0;
    for (StoredMessage m : page.messages()) {
      if (!Notification.isEncoded(m.body())) {
        LOG.warn("skipped unreadable offline notification {} (seq {})", m.msgId(), m.seq());
        continue;
      }
      // As stored, between the entry's id and time: the receiver gets each notification's fields in that order.
      batch.beginObject().field("id", m.msgId()).fieldsOf(m.body()).field("ts", m.ts()).endObject();
      written++;
    }
    long last = page.messages().get(page.messages().size() - 1).seq();
    int count = written;
    Future<Void> posted = count == 0 ? Future.succeededFuture() : post(batch.endArray().endObject().take());
    return posted.map(v -> {
      metrics.webhookEnded("posted", count);
      moveCursor(last);
      report(page.head());
      return page.messages().size() >= config.batchMaxNotifications() || page.head() > last;
    });
  }

  /** Notifications retention removed before they were posted: counted, and passed. */
  private void gone(long count, long upTo) {
    LOG.warn("{} offline notifications were removed by retention before they could be posted", count);
    metrics.webhookEnded("expired", (int) Math.min(Integer.MAX_VALUE, count));
    moveCursor(upTo);
  }

  private void moveCursor(long seq) {
    after = seq;
    vertx.eventBus().send(Addresses.INBOX_CURSOR,
        new CursorUpdate(SystemInboxes.WEBHOOK, SystemInboxes.WEBHOOK_DISPATCHER, seq).toJson(), LOCAL);
  }

  /** Tells the routers how many notifications wait, so they can hold the queue to {@code webhook.maxQueued}. */
  private void report(long head) {
    vertx.eventBus().publish(Addresses.WEBHOOK_BACKLOG, new JsonObject().put("queued", Math.max(0, head - after)), reach);
  }

  /** One signed POST; fails on an error, a timeout ({@code webhook.timeoutMillis}) or a status other than 2xx. */
  private Future<Void> post(byte[] body) {
    long timestamp = System.currentTimeMillis() / 1000;
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setAbsoluteURI(config.url())
        .setTimeout(config.timeoutMillis())
        .setFollowRedirects(false)
        .putHeader("Content-Type", "application/json")
        .putHeader(WebhookSigner.TIMESTAMP_HEADER, Long.toString(timestamp))
        .putHeader(WebhookSigner.SIGNATURE_HEADER, signer.sign(timestamp, body));
    long started = System.nanoTime();
    return client.request(options)
        .compose(request -> request.send(Buffer.buffer(body)))
        .compose(response -> response.body().compose(ignored -> response.statusCode() / 100 == 2
            ? Future.<Void>succeededFuture()
            : Future.<Void>failedFuture("the receiver answered " + response.statusCode())))
        .andThen(done -> metrics.webhookPosted(done.succeeded(), System.nanoTime() - started));
  }

  private void cancelTimer() {
    if (timer != -1) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }
}
