package dev.switchboard.storage;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.AppendBatch;
import dev.switchboard.bus.AppendBatchResult;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomRequest;
import io.vertx.core.json.JsonArray;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Owns the durable inboxes. Appends are group-committed: while one transaction is being written,
 * new appends queue up and go together in the next one, so a burst costs one sync, not one per message;
 * and commits start at most every {@code inbox.commitIntervalMillis}, so that under load each carries
 * more than the few sends that arrived during the last one.
 * Cursor moves ride along with the next write (or a short timer when nothing else is written).
 * Deploy exactly one instance per node: it is the single writer of its store (with PostgreSQL, the
 * single writer of this node; the nodes sharing the database coordinate through row locks).
 */
public final class InboxVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(InboxVerticle.class);

  /** One bus message's appends; they are committed together and answered together. */
  private record PendingAppend(List<AppendRequest> requests, int copies, Message<AppendBatch> message) {

    static PendingAppend of(AppendBatch batch, Message<AppendBatch> message) {
      int copies = 0;
      for (AppendRequest request : batch.appends()) {
        copies += request.recipients().size();
      }
      return new PendingAppend(batch.appends(), copies, message);
    }
  }

  private static final long SLOW_COMMIT_MILLIS = 50;

  private InboxConfig config;
  private InboxStore store;
  private final ArrayDeque<PendingAppend> queue = new ArrayDeque<>();
  /** Room changes waiting for their write: one at a time, between append commits. */
  private final ArrayDeque<Message<JsonObject>> roomChanges = new ArrayDeque<>();
  private final Map<DeviceKey, Long> pendingCursors = new LinkedHashMap<>();
  private final Map<DeviceKey, Long> flushingCursors = new LinkedHashMap<>();
  private boolean writing;
  private boolean purgeDue;
  /** Copies (one per recipient) of the appends in {@link #queue}. */
  private long queuedCopies;
  /** When the last commit started ({@link System#nanoTime}). */
  private long lastCommitStart;
  private long commitTimer = -1;
  private long cursorTimer = -1;
  private long purgeTimer = -1;
  private Promise<Void> idle;
  /** The appends of the write in progress, if any. */
  private List<PendingAppend> inFlight;
  private SwitchboardMetrics metrics;

  /** An inbox that reads its section from the deployment's JSON config. */
  public InboxVerticle() {
  }

  /** An inbox with its section of the node's configuration, parsed once by the caller. */
  public InboxVerticle(InboxConfig config) {
    this.config = config;
  }

  @Override
  public Future<?> start() {
    if (config == null) {
      config = InboxConfig.fromJson(config());
    }
    metrics = SwitchboardMetrics.of(vertx);
    metrics.watchInboxQueue(() -> queuedCopies);
    lastCommitStart = System.nanoTime() - config.commitIntervalMillis() * 1_000_000;
    store = switch (config.engine()) {
      case LOG -> logStore();
      case SQLITE -> new SqliteInboxStore(vertx, config);
      case POSTGRES -> new ShardedInboxStore(vertx, config);
    };
    return store.open().compose(v -> Future.all(
        vertx.eventBus().<AppendBatch>localConsumer(Addresses.INBOX_APPEND, this::onAppend).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.INBOX_READ, this::onRead).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.INBOX_CURSOR, this::onCursor).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.INBOX_ROOM_CHANGE, this::onRoomChange).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.INBOX_ROOM_READ, this::onRoomRead).completion()))
        .onSuccess(v -> {
          // Once at start as well: the log engine reads back messages that expired while it was down.
          requestPurge();
          purgeTimer = vertx.setPeriodic(config.purgeIntervalMillis(), id -> requestPurge());
        });
  }

  /** The log engine on the real file system, with its bytes written, syncs and segment checks shown as meters. */
  private InboxStore logStore() {
    SystemLogFiles files = new SystemLogFiles();
    metrics.watchLogFiles(files::bytesWritten, files::syncs);
    LogInboxStore log = new LogInboxStore(vertx, config, files);
    metrics.watchLogCheck(log::segmentsVerified, log::segmentsUnverified, log::damagedSegments);
    return log;
  }

  /**
   * Lets the write in progress finish and the last cursor moves reach the store, then closes it; all
   * within {@code inbox.stopTimeoutMillis}, so that a store that stopped answering cannot hold the
   * node's shutdown. Past it, what is still queued is answered {@code unavailable} (never accepted,
   * so its senders retry elsewhere) and the store is closed regardless.
   */
  @Override
  public Future<?> stop() {
    vertx.cancelTimer(purgeTimer);
    vertx.cancelTimer(cursorTimer);
    vertx.cancelTimer(commitTimer);
    idle = Promise.promise();
    drain();
    long seconds = config.stopTimeoutMillis() / 1000;
    return within(idle.future().compose(v -> store.close()))
        .recover(e -> {
          int waiting = queue.size() + (inFlight == null ? 0 : inFlight.size());
          LOG.warn("inbox store did not finish its writes within inbox.stopTimeoutSeconds ({} s): {} appends refused, "
              + "{} cursor moves not written; closing it", seconds, waiting, pendingCursors.size() + flushingCursors.size());
          refuseQueued();
          // The close itself may hang as well: it gets the same bound, then the node goes on stopping.
          return within(store.close());
        })
        .recover(e -> {
          LOG.warn("inbox store did not close within inbox.stopTimeoutSeconds ({} s): {}", seconds, e.getMessage());
          return Future.succeededFuture();
        });
  }

  /** {@code step}, or a failure once {@code inbox.stopTimeoutSeconds} have passed without it. */
  private Future<Void> within(Future<Void> step) {
    Promise<Void> bounded = Promise.promise();
    long timer = vertx.setTimer(config.stopTimeoutMillis(),
        id -> bounded.tryFail("not done within " + config.stopTimeoutMillis() + " ms"));
    step.onComplete(done -> {
      vertx.cancelTimer(timer);
      bounded.tryComplete(); // a failed close is only logged: the node goes on stopping
      if (done.failed()) {
        LOG.warn("closing the inbox store failed", done.cause());
      }
    });
    return bounded.future();
  }

  /** Answers what waits for the store {@code unavailable}: it was never accepted. */
  private void refuseQueued() {
    while (!roomChanges.isEmpty()) {
      BusFailures.fail(roomChanges.poll(), new ProtocolException(ErrorCode.UNAVAILABLE, "the node is stopping"));
    }
    if (inFlight != null) {
      inFlight.forEach(p -> BusFailures.fail(p.message(), new ProtocolException(ErrorCode.UNAVAILABLE, "the node is stopping")));
    }
    while (!queue.isEmpty()) {
      PendingAppend pending = queue.poll();
      queuedCopies -= pending.copies();
      BusFailures.fail(pending.message(), new ProtocolException(ErrorCode.UNAVAILABLE, "the node is stopping"));
    }
  }

  private void onAppend(Message<AppendBatch> message) {
    PendingAppend pending = PendingAppend.of(message.body(), message);
    queue.add(pending);
    queuedCopies += pending.copies();
    drain();
  }

  private void onRoomChange(Message<JsonObject> message) {
    roomChanges.add(message);
    drain();
  }

  /** A room's members or a user's rooms: read at once, as the store has them between writes. */
  private void onRoomRead(Message<JsonObject> message) {
    RoomRequest request = RoomRequest.fromJson(message.body());
    Future<JsonObject> answer = request.op() == RoomRequest.Op.ROOMS
        ? store.rooms(request.member()).map(rooms -> new JsonObject().put("user", request.member())
            .put("rooms", new JsonArray(rooms)))
        : store.room(request.room()).compose(info -> info == null
            ? Future.failedFuture(new ProtocolException(ErrorCode.ROOM_NOT_FOUND, "no room " + request.room()))
            : Future.succeededFuture(info.toJson()));
    answer.onSuccess(message::reply).onFailure(e -> {
      if (!(e instanceof ProtocolException)) {
        LOG.warn("reading rooms failed", e);
      }
      BusFailures.fail(message, e instanceof ProtocolException ? e
          : new ProtocolException(ErrorCode.UNAVAILABLE, "rooms could not be read"));
    });
  }

  /** Writes one room change; the next write starts when it is done. */
  private void writeRoomChange(Message<JsonObject> message) {
    writing = true;
    RoomChange change = RoomChange.fromJson(message.body());
    store.changeRoom(change, System.currentTimeMillis())
        .onSuccess(result -> message.reply(result.toJson()))
        .onFailure(e -> {
          LOG.warn("room change {} {} failed", change.op(), change.room(), e);
          BusFailures.fail(message, new ProtocolException(ErrorCode.UNAVAILABLE, "room change failed"));
        })
        .onComplete(ar -> {
          writing = false;
          drain();
        });
  }

  private void onCursor(Message<JsonObject> message) {
    CursorUpdate update = CursorUpdate.fromJson(message.body());
    pendingCursors.merge(new DeviceKey(update.user(), update.device()), update.seq(), Math::max);
    if (cursorTimer < 0) {
      cursorTimer = vertx.setTimer(config.cursorFlushMillis(), id -> {
        cursorTimer = -1;
        drain();
      });
    }
  }

  private void onRead(Message<JsonObject> message) {
    ReadRequest request = ReadRequest.fromJson(message.body());
    Future<Long> after = request.after() != null
        ? Future.succeededFuture(request.after())
        : cursorOf(new DeviceKey(request.user(), request.device()));
    long started = System.nanoTime();
    after.compose(from -> store.read(request.user(), from, request.limit(), System.currentTimeMillis()))
        .andThen(done -> metrics.read(System.nanoTime() - started, done.failed()))
        .onSuccess(message::reply)
        .onFailure(e -> {
          if (e instanceof DamagedEntryException) {
            // The store logged the damaged segment once at ERROR; each retry of the read fails the same way.
            LOG.debug("reading inbox of {} refused: {}", request.user(), e.getMessage());
          } else {
            LOG.warn("reading inbox of {} failed", request.user(), e);
          }
          BusFailures.fail(message, new ProtocolException(ErrorCode.UNAVAILABLE, "inbox read failed"));
        });
  }

  /** A device's cursor: the newest move not yet written wins over the stored one. */
  private Future<Long> cursorOf(DeviceKey key) {
    Long pending = pendingCursors.get(key);
    Long flushing = flushingCursors.get(key);
    if (pending != null || flushing != null) {
      return Future.succeededFuture(Math.max(pending == null ? 0 : pending, flushing == null ? 0 : flushing));
    }
    return store.cursor(key.user(), key.device());
  }

  private void requestPurge() {
    purgeDue = true;
    drain();
  }

  /** Starts the next write if none is running: a purge when due, else the queued appends and cursor moves. */
  private void drain() {
    if (writing) {
      return;
    }
    if (purgeDue) {
      purgeDue = false;
      writing = true;
      store.purge(System.currentTimeMillis())
          .onSuccess(n -> {
            if (n > 0) {
              LOG.info("retention removed {} messages", n);
            }
          })
          .onFailure(e -> {
            if (e instanceof WritesStoppedException) {
              LOG.debug("retention purge skipped: {}", e.getMessage());
            } else {
              metrics.purgeFailed();
              LOG.warn("retention purge failed; will retry", e);
            }
          })
          .onComplete(ar -> {
            writing = false;
            drain();
          });
      return;
    }
    if (!roomChanges.isEmpty()) {
      writeRoomChange(roomChanges.poll());
      return;
    }
    if (queue.isEmpty() && pendingCursors.isEmpty()) {
      if (idle != null) {
        idle.tryComplete();
      }
      return;
    }
    long wait = commitWaitNanos();
    if (wait > 0) {
      if (commitTimer < 0) {
        commitTimer = vertx.setTimer(Math.max(1, (wait + 999_999) / 1_000_000), id -> {
          commitTimer = -1;
          drain();
        });
      }
      return;
    }
    if (commitTimer >= 0) {
      vertx.cancelTimer(commitTimer);
      commitTimer = -1;
    }
    lastCommitStart = System.nanoTime();
    List<PendingAppend> batch = takeBatch();
    List<CursorUpdate> cursors = new ArrayList<>(pendingCursors.size());
    pendingCursors.forEach((k, seq) -> cursors.add(new CursorUpdate(k.user(), k.device(), seq)));
    flushingCursors.putAll(pendingCursors);
    pendingCursors.clear();
    writing = true;
    inFlight = batch;
    List<AppendRequest> requests = new ArrayList<>();
    int copies = 0;
    for (PendingAppend p : batch) {
      requests.addAll(p.requests());
      copies += p.copies();
    }
    int committed = copies;
    long started = System.nanoTime();
    store.append(requests, cursors, System.currentTimeMillis())
        .andThen(done -> metrics.committed(committed, System.nanoTime() - started, done.failed()))
        .onSuccess(results -> {
          long millis = (System.nanoTime() - started) / 1_000_000;
          if (millis >= SLOW_COMMIT_MILLIS) {
            // Every send queued behind this commit waits as long: the usual cause of latency spikes.
            LOG.info("slow inbox commit: {} appends, {} cursor moves in {} ms", requests.size(), cursors.size(), millis);
          }
          replyAll(batch, results);
        })
        .onFailure(e -> {
          if (e instanceof WritesStoppedException) {
            // The store logged the failed sync once; every later write is refused the same way.
            LOG.debug("inbox write of {} appends refused: {}", batch.size(), e.getMessage());
          } else {
            LOG.error("inbox write of {} appends failed", batch.size(), e);
          }
          flushingCursors.forEach((k, seq) -> pendingCursors.merge(k, seq, Math::max));
          batch.forEach(p -> BusFailures.fail(p.message(), new ProtocolException(ErrorCode.UNAVAILABLE, "inbox write failed")));
        })
        .onComplete(ar -> {
          flushingCursors.clear();
          inFlight = null;
          writing = false;
          drain();
        });
  }

  /**
   * How long the next commit waits so that sends arriving meanwhile share it (one sync, one worker
   * round trip and one reply per batch instead of per few sends): none while stopping, for a full
   * batch, or once {@code inbox.commitIntervalMillis} has passed since the last commit started.
   */
  private long commitWaitNanos() {
    if (idle != null || queuedCopies >= config.batchMaxMessages() || config.commitIntervalMillis() == 0) {
      return 0;
    }
    return config.commitIntervalMillis() * 1_000_000 - (System.nanoTime() - lastCommitStart);
  }

  private List<PendingAppend> takeBatch() {
    List<PendingAppend> batch = new ArrayList<>();
    int copies = 0;
    while (!queue.isEmpty() && (batch.isEmpty() || copies + queue.peek().copies() <= config.batchMaxMessages())) {
      PendingAppend next = queue.poll();
      copies += next.copies();
      queuedCopies -= next.copies();
      batch.add(next);
    }
    return batch;
  }

  /** {@code results} follow the appends of the whole transaction; each bus message gets its own slice. */
  private static void replyAll(List<PendingAppend> batch, List<AppendResult> results) {
    int from = 0;
    for (PendingAppend pending : batch) {
      int to = from + pending.requests().size();
      pending.message().reply(new AppendBatchResult(List.copyOf(results.subList(from, to))));
      from = to;
    }
  }
}
