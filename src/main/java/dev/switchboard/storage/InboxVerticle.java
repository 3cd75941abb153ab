package dev.switchboard.storage;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.AppendBatch;
import dev.switchboard.bus.AppendBatchResult;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.CursorRead;
import dev.switchboard.bus.CursorReadResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
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

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Owns the durable inboxes. Appends are group-committed: while a transaction is being written,
 * new appends queue up and go together in the next one, so a burst costs one sync, not one per message;
 * and commits start at most every {@code inbox.commitIntervalMillis} ({@code inbox.postgresCommitIntervalMillis}
 * on PostgreSQL), so that under load each carries more than the few sends that arrived during the last one.
 * Cursor moves ride along with the next write (or a short timer when nothing else is written).
 * Deploy exactly one instance per node: it is the single writer of its store. On an embedded engine
 * one commit runs at a time. On PostgreSQL up to {@code inbox.postgresCommitsInFlight} run at once,
 * as the nodes sharing the database already do (row locks order them), so that one commit waiting on
 * its round trips, its sync or another node's lock does not hold every send of the node; but a commit
 * starts beside running ones only when it helps ({@link CommitOverlap}: the youngest has run well past
 * the usual commit time, or a full batch waits), else sends queue for the next commit as with one at
 * a time, which carries them in fewer statements and syncs. A send to an inbox that a running commit
 * writes waits for it, so each inbox gets its seqs in the order its sends came. A room send, a room
 * change and a purge run alone.
 */
public final class InboxVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(InboxVerticle.class);
  /** An SQLite store's files in {@code inbox.dataDir}: the database, its write-ahead log, its shared-memory index. */
  private static final List<String> SQLITE_FILES = List.of("inbox.db", "inbox.db-wal", "inbox.db-shm");

  /**
   * One bus message's appends; they are committed together and answered together. {@code inboxes}:
   * the inboxes they write; {@code room}: one of them goes to a room, whose members are known only
   * inside the commit.
   */
  private record PendingAppend(List<AppendRequest> requests, int copies, Set<String> inboxes, boolean room,
                               Message<AppendBatch> message) {

    static PendingAppend of(AppendBatch batch, Message<AppendBatch> message) {
      int copies = 0;
      boolean room = false;
      Set<String> inboxes = new HashSet<>();
      for (AppendRequest request : batch.appends()) {
        copies += request.recipients().size();
        room |= request.isRoom();
        request.recipients().forEach(r -> inboxes.add(r.to()));
      }
      return new PendingAppend(batch.appends(), copies, inboxes, room, message);
    }
  }

  /**
   * A commit in progress: its appends, the inboxes they write, the cursor moves it carries, and when
   * it started ({@link System#nanoTime}).
   */
  private record Commit(List<PendingAppend> appends, Set<String> inboxes, boolean room, Map<DeviceKey, Long> cursors,
                        long startedNanos) {
  }

  /** The appends a commit would take, and whether they fill it ({@code inbox.batchMaxMessages}). */
  private record Batch(List<PendingAppend> appends, boolean full) {
  }

  private static final long SLOW_COMMIT_MILLIS = 50;
  /** The most reads in one batch: one statement's arrays on PostgreSQL. */
  private static final int READ_BATCH_MAX = 256;

  private InboxConfig config;
  private InboxStore store;
  private final ArrayDeque<PendingAppend> queue = new ArrayDeque<>();
  /** Room changes waiting for their write: one at a time, between append commits. */
  private final ArrayDeque<Message<JsonObject>> roomChanges = new ArrayDeque<>();
  private final Map<DeviceKey, Long> pendingCursors = new LinkedHashMap<>();
  /** The commits in progress, oldest first. */
  private final List<Commit> commits = new ArrayList<>();
  /** A purge or room change in progress: nothing else runs meanwhile. */
  private boolean exclusive;
  private boolean purgeDue;
  /** Copies (one per recipient) of the appends in {@link #queue}. */
  private long queuedCopies;
  /** When the last commit started ({@link System#nanoTime}). */
  private long lastCommitStart;
  private long commitTimer = -1;
  /** When {@link #commitTimer} fires ({@link System#nanoTime}). */
  private long commitTimerAt;
  private final CommitOverlap overlap = new CommitOverlap(System::nanoTime);
  private long cursorTimer = -1;
  private long purgeTimer = -1;
  private Promise<Void> idle;
  private SwitchboardMetrics metrics;
  private PageReads pageReads;

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
    lastCommitStart = System.nanoTime() - config.commitSpacingMillis() * 1_000_000;
    pageReads = new PageReads(config.readBatchesInFlight(), READ_BATCH_MAX, this::readPages);
    Future<Void> opened = refuseSqliteFiles().compose(v -> switch (config.engine()) {
      case LOG -> {
        store = logStore();
        yield store.open();
      }
      case POSTGRES -> {
        store = new ShardedInboxStore(vertx, config);
        yield store.open();
      }
    });
    return opened.compose(v -> Future.all(
        vertx.eventBus().<AppendBatch>localConsumer(Addresses.INBOX_APPEND, this::onAppend).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.INBOX_READ, this::onRead).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.INBOX_CURSOR, this::onCursor).completion(),
        vertx.eventBus().<CursorRead>localConsumer(Addresses.INBOX_CURSORS, this::onCursors).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.INBOX_ROOM_CHANGE, this::onRoomChange).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.INBOX_ROOM_READ, this::onRoomRead).completion()))
        .onSuccess(v -> {
          // Once at start as well: the log engine reads back messages that expired while it was down.
          requestPurge();
          purgeTimer = vertx.setPeriodic(config.purgeIntervalMillis(), id -> requestPurge());
        });
  }

  /**
   * An SQLite store in the data directory holds messages neither engine reads: started beside it,
   * the node would answer its users with empty inboxes, so it refuses until the files are moved aside.
   */
  private Future<Void> refuseSqliteFiles() {
    Path dir = Path.of(config.dataDir()).toAbsolutePath();
    List<Path> files = SQLITE_FILES.stream().map(dir::resolve).toList();
    List<Future<Boolean>> checks = files.stream().map(f -> vertx.fileSystem().exists(f.toString())).toList();
    return Future.all(checks).compose(all -> {
      List<String> found = new ArrayList<>();
      for (int i = 0; i < files.size(); i++) {
        if (checks.get(i).result()) {
          found.add(files.get(i).toString());
        }
      }
      if (found.isEmpty()) {
        return Future.succeededFuture();
      }
      return Future.failedFuture(new IllegalStateException("found " + String.join(", ", found)
          + ": an SQLite inbox store, which this version does not read, so its messages would never be delivered."
          + " To keep them, see " + InboxConfig.MOVING_FROM_SQLITE + "; to start without them, move "
          + String.join(", ", SQLITE_FILES) + " out of " + dir));
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
          int waiting = queue.size() + commits.stream().mapToInt(c -> c.appends().size()).sum();
          int cursors = pendingCursors.size() + commits.stream().mapToInt(c -> c.cursors().size()).sum();
          LOG.warn("inbox store did not finish its writes within inbox.stopTimeoutSeconds ({} s): {} appends refused, "
              + "{} cursor moves not written; closing it", seconds, waiting, cursors);
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
    for (Commit commit : commits) {
      commit.appends().forEach(p -> BusFailures.fail(p.message(), new ProtocolException(ErrorCode.UNAVAILABLE, "the node is stopping")));
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
    exclusive = true;
    RoomChange change = RoomChange.fromJson(message.body());
    store.changeRoom(change, System.currentTimeMillis())
        .onSuccess(result -> message.reply(result.toJson()))
        .onFailure(e -> {
          LOG.warn("room change {} {} failed", change.op(), change.room(), e);
          BusFailures.fail(message, new ProtocolException(ErrorCode.UNAVAILABLE, "room change failed"));
        })
        .onComplete(ar -> {
          exclusive = false;
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
    long started = System.nanoTime();
    pageReads.read(request)
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

  /**
   * A batch of reads as the store gets it: one read after its device's cursor takes the newest move
   * not yet written when there is one, the stored cursor otherwise.
   */
  private List<Future<InboxPage>> readPages(List<ReadRequest> reads) {
    List<ReadRequest> resolved = new ArrayList<>(reads.size());
    for (ReadRequest read : reads) {
      Long newest = read.after() == null ? unwrittenCursor(new DeviceKey(read.user(), read.device())) : null;
      resolved.add(newest == null ? read : new ReadRequest(read.user(), read.device(), newest, read.limit()));
    }
    return store.readPages(resolved, System.currentTimeMillis());
  }

  /** The newest move of a device's cursor that is queued or being written, or null. */
  private Long unwrittenCursor(DeviceKey key) {
    Long newest = pendingCursors.get(key);
    for (Commit commit : commits) {
      Long flushing = commit.cursors().get(key);
      if (flushing != null && (newest == null || flushing > newest)) {
        newest = flushing;
      }
    }
    return newest;
  }

  /**
   * Several devices' cursors in one answer, each as a read after the cursor takes it; the store is asked
   * once for all those without an unwritten move. One it could not read is answered null.
   */
  private void onCursors(Message<CursorRead> message) {
    List<CursorRead.Device> devices = message.body().devices();
    List<DeviceKey> keys = new ArrayList<>(devices.size());
    Long[] seqs = new Long[devices.size()];
    Set<DeviceKey> stored = new HashSet<>();
    for (int i = 0; i < seqs.length; i++) {
      DeviceKey key = new DeviceKey(devices.get(i).user(), devices.get(i).device());
      keys.add(key);
      seqs[i] = unwrittenCursor(key);
      if (seqs[i] == null) {
        stored.add(key);
      }
    }
    Future<Map<DeviceKey, Long>> read = stored.isEmpty() ? Future.succeededFuture(Map.of()) : store.cursors(stored);
    read.recover(e -> {
      LOG.warn("reading the cursors of {} devices failed", stored.size(), e);
      return Future.succeededFuture(Map.of());
    }).onSuccess(found -> {
      for (int i = 0; i < seqs.length; i++) {
        if (seqs[i] == null) {
          seqs[i] = found.get(keys.get(i));
        }
      }
      message.reply(new CursorReadResult(Arrays.asList(seqs)));
    });
  }

  private void requestPurge() {
    purgeDue = true;
    drain();
  }

  /**
   * Starts what may start: a purge when due or a room change, each alone once the commits in progress
   * are done; else commits of the queued appends and cursor moves, up to {@link InboxConfig#appendsInFlight},
   * a commit beside running ones only when {@link #overlapWaitNanos} lets it.
   */
  private void drain() {
    if (exclusive) {
      return;
    }
    if (purgeDue || !roomChanges.isEmpty()) {
      if (commits.isEmpty()) {
        runExclusive();
      }
      return; // they run alone: the commits in progress finish first, and no new one starts
    }
    if (queue.isEmpty() && pendingCursors.isEmpty()) {
      if (idle != null && commits.isEmpty()) {
        idle.tryComplete();
      }
      return;
    }
    while (commits.size() < config.appendsInFlight() && (!queue.isEmpty() || !pendingCursors.isEmpty())) {
      long wait = Math.max(commitWaitNanos(), overlapWaitNanos());
      if (wait > 0) {
        wakeIn(wait);
        return;
      }
      if (commitTimer >= 0) {
        vertx.cancelTimer(commitTimer);
        commitTimer = -1;
      }
      if (!startCommit()) {
        return;
      }
    }
  }

  /**
   * Drains again in {@code nanos}: a timer already set for sooner does, one set for later is moved
   * (a commit that ended may have made the wait shorter).
   */
  private void wakeIn(long nanos) {
    long at = System.nanoTime() + nanos;
    if (commitTimer >= 0) {
      if (commitTimerAt - at <= 1_000_000) {
        return;
      }
      vertx.cancelTimer(commitTimer);
    }
    commitTimerAt = at;
    commitTimer = vertx.setTimer(Math.max(1, (nanos + 999_999) / 1_000_000), id -> {
      commitTimer = -1;
      drain();
    });
  }

  /** A purge when due, else the next room change; nothing else runs until it is done. */
  private void runExclusive() {
    if (!purgeDue) {
      writeRoomChange(roomChanges.poll());
      return;
    }
    purgeDue = false;
    exclusive = true;
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
          exclusive = false;
          drain();
        });
  }

  /**
   * Starts a commit of the queued appends that may go now, with the pending cursor moves; false when
   * none may (each waits for a commit in progress that writes one of its inboxes, or a room's).
   */
  private boolean startCommit() {
    List<PendingAppend> batch = takeBatch();
    if (batch.isEmpty() && (!queue.isEmpty() || pendingCursors.isEmpty())) {
      return false; // cursor moves wait for the next commit rather than take a slot of their own
    }
    long started = System.nanoTime();
    lastCommitStart = started;
    Map<DeviceKey, Long> flushing = new LinkedHashMap<>(pendingCursors);
    pendingCursors.clear();
    List<CursorUpdate> cursors = new ArrayList<>(flushing.size());
    flushing.forEach((k, seq) -> cursors.add(new CursorUpdate(k.user(), k.device(), seq)));
    List<AppendRequest> requests = new ArrayList<>();
    Set<String> inboxes = new HashSet<>();
    boolean room = false;
    int copies = 0;
    for (PendingAppend p : batch) {
      requests.addAll(p.requests());
      inboxes.addAll(p.inboxes());
      room |= p.room();
      copies += p.copies();
    }
    Commit commit = new Commit(batch, inboxes, room, flushing, started);
    commits.add(commit);
    int committed = copies;
    store.append(requests, cursors, System.currentTimeMillis())
        .andThen(done -> metrics.committed(committed, System.nanoTime() - started, done.failed()))
        .onSuccess(results -> {
          overlap.committed(started);
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
          flushing.forEach((k, seq) -> pendingCursors.merge(k, seq, Math::max));
          batch.forEach(p -> BusFailures.fail(p.message(), new ProtocolException(ErrorCode.UNAVAILABLE, "inbox write failed")));
        })
        .onComplete(ar -> {
          commits.remove(commit);
          drain();
        });
    return true;
  }

  /**
   * How long the next commit waits so that sends arriving meanwhile share it (one sync, one worker
   * round trip and one reply per batch instead of per few sends): none while stopping, for a full
   * batch, or once the engine's commit interval has passed since the last commit started.
   */
  private long commitWaitNanos() {
    if (idle != null || queuedCopies >= config.batchMaxMessages() || config.commitSpacingMillis() == 0) {
      return 0;
    }
    return config.commitSpacingMillis() * 1_000_000 - (System.nanoTime() - lastCommitStart);
  }

  /**
   * How long the next commit waits for the running ones: none when none runs, while stopping, or for
   * a full batch to inboxes that no running commit writes (waiting would not make it larger); else
   * until the youngest running commit has run long enough that it is held ({@link CommitOverlap}).
   */
  private long overlapWaitNanos() {
    if (commits.isEmpty() || idle != null) {
      return 0;
    }
    long wait = overlap.waitNanos(commits.get(commits.size() - 1).startedNanos());
    // What is queued in all bounds what may go beside the running commits: most often too little to look.
    return wait > 0 && queuedCopies >= config.batchMaxMessages() && nextBatch().full() ? 0 : wait;
  }

  /**
   * The queued appends the next commit takes, in order, up to {@code inbox.batchMaxMessages} copies:
   * none while a room's commit runs; an append that writes an inbox of a commit in progress waits,
   * and so does every later append to its inboxes, so that an inbox never gets a later send's seq
   * before an earlier one's; a room send (whose members the commit finds) goes only in a commit that
   * starts while none runs, and everything after it waits with it. With one commit at a time this
   * takes the queue in order, as one commit always did.
   */
  private List<PendingAppend> takeBatch() {
    List<PendingAppend> batch = nextBatch().appends();
    int taken = 0;
    for (Iterator<PendingAppend> it = queue.iterator(); it.hasNext() && taken < batch.size(); ) {
      PendingAppend next = it.next();
      if (next == batch.get(taken)) {
        it.remove();
        queuedCopies -= next.copies();
        taken++;
      }
    }
    return batch;
  }

  /** What {@link #takeBatch} would take now, left in the queue. */
  private Batch nextBatch() {
    List<PendingAppend> batch = new ArrayList<>();
    Set<String> blocked = new HashSet<>();
    for (Commit commit : commits) {
      if (commit.room()) {
        return new Batch(batch, false);
      }
      blocked.addAll(commit.inboxes());
    }
    int copies = 0;
    for (PendingAppend next : queue) {
      if (!batch.isEmpty() && copies + next.copies() > config.batchMaxMessages()) {
        return new Batch(batch, true);
      }
      if (next.room() && !commits.isEmpty()) {
        break; // nothing else may run beside a room's commit: it waits, and all after it
      }
      if (!Collections.disjoint(next.inboxes(), blocked)) {
        blocked.addAll(next.inboxes());
        continue;
      }
      copies += next.copies();
      batch.add(next);
    }
    return new Batch(batch, copies >= config.batchMaxMessages());
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
