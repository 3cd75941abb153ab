package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomChangeResult;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.bus.SystemInboxes;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The embedded engine built for this workload: an append-only log of segment files, with every
 * inbox's index in memory. An inbox only ever grows at its end and loses messages only by age, so
 * a commit is one record appended to one file (and one {@code fsync} with
 * {@code inbox.synchronous = FULL}) instead of B-tree pages rewritten all over a database; the
 * copies of a send to many recipients share one stored body; and whole segments are deleted once
 * everything in them expired.
 *
 * <p>In memory: per inbox its head, how many of its messages are in indexed sealed segments, and 16
 * bytes per message of the tail (the segments without an index: the active one, and a sealed one
 * until its index is written); the index the active segment will be sealed with, filled as commits
 * are written (so a roll reads nothing back); every device's cursor, and 16-32 bytes per
 * idempotency key of the last one to two windows; a bounded cache of index file pages
 * ({@link IndexPages}) through which reads find older messages. All of it is rebuilt at open from the oldest segment on: a sealed
 * segment from its index file when that matches the segment ({@link SegmentIndex}; heads, per-user
 * counts, keys and cursors, nothing per message; the counts of a run of them from two cumulative
 * {@link Ledger}s), else from its records, and the newest from its records; each
 * segment starts with a checkpoint of the heads and cursors, so deleting older segments loses nothing.
 *
 * <p>State is touched only on the caller's context (the inbox verticle); file work runs on worker
 * threads: one task per commit, reads beside it.
 */
public final class LogInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(LogInboxStore.class);
  /** Bytes read first for an entry: most messages fit, longer ones take a second read. */
  private static final int READ_HINT = 1024;
  /** A segment older than this (or than retention, if shorter) is closed, so that expired data leaves the disk. */
  private static final long MAX_SEGMENT_AGE_MILLIS = 3_600_000;

  /** Where a commit's record went: its entries' position and each message's and key's offset in them. */
  private record Written(long position, int[] messageOffsets, int[] keyOffsets, LogSegments.Segment segment) {
  }

  private final Vertx vertx;
  private final InboxConfig config;
  private final AppendPlanner planner;
  private final Map<String, UserLog> inboxes = new HashMap<>();
  private final Map<DeviceKey, Long> cursors = new HashMap<>();
  /** Every room; rebuilt at open from the newest checkpoint and the changes after it. */
  private final Rooms rooms = new Rooms();
  private final RoomRules roomRules;
  /** Segments dropped at the last purge; deleted at the next, when no read can still be using them. */
  private final List<LogSegments.Segment> retired = new ArrayList<>();
  private KeyPositions keys;
  private LogSegments log;
  /** The index writes of sealed segments, one after another; never failed. */
  private Future<Void> indexing = Future.succeededFuture();
  /**
   * Every segment below this log position is sealed with an index file, and its messages are counted
   * in their inbox's {@link UserLog} without an entry: reads find them through {@link #pages}.
   */
  private long sealedEnd;
  private IndexPages pages;
  /** Binary searches of sealed segments' indexes made by reads, for tests of what a read costs. */
  private final AtomicLong indexSearches = new AtomicLong();
  /** Sealed segments found damaged since the start. */
  private SegmentDamage damage;
  /** The check of the segments the start took from their index without reading them. */
  private SegmentCheck check;
  /** The background check starts once this completes (tests hold it back). */
  private Future<Void> checkGate = Future.succeededFuture();

  private final LogFiles files;
  /**
   * The time a start compares idempotency keys with: a sealed segment whose newest key is older than
   * the window before it has its keys left unread, as no later send can match them.
   */
  private final LongSupplier clock;
  /** False only in tests that open one log both ways: the start then reads every summary, never a ledger. */
  private boolean ledgers = true;

  public LogInboxStore(Vertx vertx, InboxConfig config) {
    this(vertx, config, SystemLogFiles.INSTANCE);
  }

  /** With {@code files} in place of the real file system: tests make its operations fail. */
  LogInboxStore(Vertx vertx, InboxConfig config, LogFiles files) {
    this(vertx, config, files, System::currentTimeMillis);
  }

  /** Also with the start's {@code clock}: tests whose appends pass times of their own give it. */
  LogInboxStore(Vertx vertx, InboxConfig config, LogFiles files, LongSupplier clock) {
    this.vertx = vertx;
    this.config = config;
    this.files = files;
    this.clock = clock;
    this.planner = new AppendPlanner(config.maxMessagesPerUser(), config.roomReceiptMembers());
    this.roomRules = new RoomRules(config.maxRoomMembers(), config.maxRoomsPerUser(), config.roomEventMembers());
  }

  /** Segments the open took from their index files rather than their records. */
  int openedByIndex() {
    return log.openedByIndex();
  }

  /** Per-message entries held in the heap, over every inbox. */
  long tailEntries() {
    long n = 0;
    for (UserLog inbox : inboxes.values()) {
      n += inbox.tailEntries();
    }
    return n;
  }

  /** Segments the open took through ledgers, without reading their index's summary. */
  int openedByLedger() {
    return log.openedByLedger();
  }

  /** Every inbox's head and stored count, for tests comparing two starts of one log. */
  Future<Map<String, InboxHead>> inboxHeads() {
    Map<String, InboxHead> heads = new HashMap<>();
    inboxes.forEach((user, inbox) -> heads.put(user, inbox.head()));
    return Future.succeededFuture(heads);
  }

  /** How many sealed segments' indexes reads have searched so far (one binary search each). */
  long indexSearches() {
    return indexSearches.get();
  }

  /** Completes once the index writes started so far are done (and their entries left the heap). */
  Future<Void> indexesWritten() {
    return indexing;
  }

  /** Makes the start read every sealed segment's summary instead of taking counts from ledgers; call before {@link #open}. */
  void withoutLedgers() {
    ledgers = false;
  }

  /** Holds the background check of sealed segments back until {@code gate} completes; call before {@link #open}. */
  void holdBackgroundCheck(Future<Void> gate) {
    checkGate = gate;
  }

  /** Completes when the background check of sealed segments is done (at once without one). */
  CompletableFuture<Void> backgroundCheck() {
    return check == null ? CompletableFuture.completedFuture(null) : check.done();
  }

  /** Sealed segments the background check found matching their index so far. */
  public long segmentsVerified() {
    return check == null ? 0 : check.verified();
  }

  /** Sealed segments the start took from their index and the background check has yet to read. */
  public long segmentsUnverified() {
    return check == null ? 0 : check.pending();
  }

  /** The files of sealed segments found damaged since the start, sorted. */
  public List<String> damagedSegments() {
    return damage == null ? List.of() : damage.files();
  }

  @Override
  public Future<Void> open() {
    Path dir = Path.of(config.dataDir()).toAbsolutePath().resolve("log");
    log = new LogSegments(dir, files, "FULL".equals(config.synchronous()), ledgers);
    keys = new KeyPositions(config.idempotencyWindowMillis());
    damage = new SegmentDamage(files);
    pages = new IndexPages(files, config.indexCacheMegabytes() * 1024L * 1024, damage);
    check = new SegmentCheck(files, damage);
    long started = System.nanoTime();
    Replay replay = new Replay(config.logRepair());
    return vertx.<LogSegments.Segment>executeBlocking(() -> {
      log.open(replay, config.logRepair(), config.verifyInBackground(),
          clock.getAsLong() - config.idempotencyWindowMillis());
      boolean repaired = replay.finish();
      sealIndexed();
      if (log.isEmpty() || repaired
          || (log.needsCheckpoint() && !(inboxes.isEmpty() && cursors.isEmpty() && rooms.isEmpty()))) {
        // A new segment now, with the state just read, before any older one may be deleted; after
        // a repair it also records the heads moved past the lost seqs.
        return log.roll(checkpoint(), System.currentTimeMillis());
      }
      return null;
    }).<Void>map(sealed -> {
      indexLater(sealed);
      return null;
    }).onSuccess(v -> {
      List<LogSegments.Segment> unread = log.unread();
      LOG.info("inbox log open at {}: {} inboxes, {} cursors, read in {} ms, {} segments through their index"
          + " ({} of them through ledgers), {} of them to check in the background (synchronous={})", dir,
          inboxes.size(), cursors.size(), (System.nanoTime() - started) / 1_000_000, log.openedByIndex(),
          log.openedByLedger(), unread.size(), config.synchronous());
      check.expect(unread.size());
      checkGate.onComplete(ar -> check.start(unread));
      if (config.logRepair()) {
        LOG.warn("inbox.logRepair is on: set it back to false now that the log is open, so that damage found later"
            + " stops the start instead of being set aside unseen");
      }
    });
  }

  /** Applies the records read at open; with repair, also moves heads past what damaged bytes may have held. */
  private final class Replay implements LogSegments.RecordConsumer {
    private final boolean repair;
    /** With repair: where each inbox was last seen (a message or a checkpoint head), by log position. */
    private final Map<String, Long> lastSeen;
    private long damagedBytes;
    private long damagedEnd = -1;
    /** Heads moved past seqs read from a torn record: they must reach a checkpoint before the record is gone. */
    private boolean tornHeads;

    Replay(boolean repair) {
      this.repair = repair;
      this.lastSeen = repair ? new HashMap<>() : null;
    }

    @Override
    public void damaged(long position, long length) {
      damagedBytes += length;
      damagedEnd = position + length;
    }

    /**
     * A torn record's commit was never answered if the write was cut by a crash, but a record damaged
     * at rest was: the seqs that can still be read from it are not handed out again.
     */
    @Override
    public void torn(ByteBuffer entries, long length) {
      long bound = length / LogEntries.MIN_MESSAGE_ENTRY + 1;
      LogEntries.salvageSeqs(entries, (recipient, seq) -> {
        UserLog inbox = inboxes.computeIfAbsent(recipient, u -> new UserLog());
        if (seq > inbox.lastSeq() && seq <= inbox.lastSeq() + bound) {
          inbox.advanceTo(seq);
          tornHeads = true;
        }
      });
    }

    @Override
    public void indexed(LogSegments.Segment segment, SegmentIndex index) {
      index.replay(new SegmentIndex.Visitor() {
        @Override
        public void head(String user, long lastSeq) {
          inboxes.computeIfAbsent(user, u -> new UserLog()).advanceTo(lastSeq);
        }

        @Override
        public void summary(String user, int messages, long minSeq, long maxSeq) {
          UserLog inbox = inboxes.computeIfAbsent(user, u -> new UserLog());
          if (minSeq <= inbox.lastSeq()) {
            throw repeated(user, minSeq, inbox);
          }
          inbox.addSealed(messages, minSeq, maxSeq, segment.base);
        }

        @Override
        public void sendKey(long hash, long position, long createdAt) {
          keys.add(hash, position, createdAt);
        }

        @Override
        public void cursor(String user, String device, long seq) {
          cursors.merge(new DeviceKey(user, device), seq, Math::max);
        }
      });
      SegmentIndex.Times times = index.times();
      segment.newestMessage = Math.max(segment.newestMessage, times.newestMessage());
      segment.newestKey = Math.max(segment.newestKey, times.newestKey());
      segment.opened = Math.min(segment.opened, times.opened());
    }

    @Override
    public void sealedRuns(List<LogSegments.SealedRun> runs) {
      for (LogSegments.SealedRun run : runs) {
        if (run.count() == 0) {
          // Messages only in segments deleted since: the newest checkpoint holds this inbox's head already.
          UserLog inbox = inboxes.get(run.user());
          if (inbox != null) {
            inbox.advanceTo(run.lastSeq());
          }
          continue;
        }
        inboxes.computeIfAbsent(run.user(), u -> new UserLog())
            .addSealedRun(run.count(), run.firstSeq(), run.lastSeq(), run.from(), run.to());
      }
    }

    @Override
    public void record(LogSegments.Segment segment, long position, ByteBuffer entries) {
      LogEntries.replay(entries, new LogEntries.Visitor() {
        @Override
        public void message(String recipient, long seq, long ts, int offset) {
          UserLog inbox = inboxes.computeIfAbsent(recipient, u -> new UserLog());
          if (seq <= inbox.lastSeq()) {
            if (!repair) {
              throw repeated(recipient, seq, inbox);
            }
            LOG.warn("inbox log repair: leaving {}#{} at position {} unread, its seq is already taken",
                recipient, seq, position + offset);
            return;
          }
          inbox.add(seq, position + offset, ts);
          seen(recipient, position);
          segment.newestMessage = Math.max(segment.newestMessage, ts);
          segment.opened = Math.min(segment.opened, ts);
        }

        @Override
        public void sendKey(String sender, String key, long createdAt, int offset) {
          keys.add(KeyPositions.hash(sender, key), position + offset, createdAt);
          segment.newestKey = Math.max(segment.newestKey, createdAt);
          segment.opened = Math.min(segment.opened, createdAt);
        }

        @Override
        public void cursor(String user, String device, long seq) {
          cursors.merge(new DeviceKey(user, device), seq, Math::max);
        }

        @Override
        public void head(String user, long lastSeq) {
          inboxes.computeIfAbsent(user, u -> new UserLog()).advanceTo(lastSeq);
          seen(user, position);
        }

        @Override
        public void room(String room, long roomSeq, byte op, String by, String member) {
          switch (op) {
            case LogEntries.ROOM_MESSAGE -> rooms.advance(room, roomSeq);
            case LogEntries.ROOM_CREATED -> rooms.apply(room, RoomChange.Op.CREATE, by, member, roomSeq);
            case LogEntries.ROOM_ADDED -> rooms.apply(room, RoomChange.Op.ADD, by, member, roomSeq);
            case LogEntries.ROOM_REMOVED -> rooms.apply(room, RoomChange.Op.REMOVE, by, member, roomSeq);
            default -> throw new IllegalStateException("unknown room op " + op + " at position " + position);
          }
        }

        @Override
        public void roomState(String room, String owner, long roomSeq, List<String> members) {
          // The segment's checkpoint: the rooms as they stood, whatever older segments (read through
          // their indexes, which keep no rooms) said.
          rooms.restore(room, owner, roomSeq, members);
        }
      });
    }

    private IllegalStateException repeated(String recipient, long seq, UserLog inbox) {
      return new IllegalStateException("message " + recipient + "#" + seq + " repeats a seq the log already"
          + " holds (head " + inbox.lastSeq() + "): a segment was copied, or the log was written by a build"
          + " that reused seqs after a failed sync. Keep a copy of the log, then start once with"
          + " inbox.logRepair=true (the later copy is left unread)");
    }

    private void seen(String user, long position) {
      if (lastSeen != null) {
        lastSeen.put(user, position);
      }
    }

    /**
     * After the last record: true if heads moved (a repair lost bytes, or a torn record held seqs). Every inbox not seen after the last damaged
     * bytes may have had messages in them, so its head moves past as many seqs as those bytes could
     * hold; no head stays below a device's cursor. Clients then get gap frames for the difference.
     */
    boolean finish() {
      cursors.forEach((k, seq) -> {
        UserLog inbox = inboxes.get(k.user());
        if (seq > 0 && (inbox == null || inbox.lastSeq() < seq)) {
          // The server's mute settings are cursors of inboxes that never hold messages: no news there.
          if (!repair && !SystemInboxes.isSystem(k.user())) {
            LOG.warn("inbox log: cursor {} of {} is past the inbox head; the head moves up to it", seq, k);
          }
          inboxes.computeIfAbsent(k.user(), u -> new UserLog()).advanceTo(seq);
        }
      });
      if (damagedEnd < 0) {
        if (tornHeads) {
          LOG.warn("inbox log: heads moved past the seqs found in the torn record, so none is handed out twice");
        }
        return tornHeads;
      }
      long bound = (damagedBytes + LogEntries.MIN_MESSAGE_ENTRY - 1) / LogEntries.MIN_MESSAGE_ENTRY;
      int moved = 0;
      for (Map.Entry<String, UserLog> e : inboxes.entrySet()) {
        if (lastSeen.getOrDefault(e.getKey(), -1L) < damagedEnd) {
          e.getValue().advanceTo(e.getValue().lastSeq() + bound);
          moved++;
        }
      }
      LOG.warn("inbox log repair: {} damaged bytes set aside; the heads of {} inboxes moved {} seqs on, past any"
          + " message the damaged bytes could have held", damagedBytes, moved, bound);
      return true;
    }
  }

  /** The entries that start a segment: every inbox's head and every cursor. */
  private ByteBuffer checkpoint() {
    LogEntries.Writer w = new LogEntries.Writer();
    inboxes.forEach((user, inbox) -> w.head(user, inbox.lastSeq()));
    cursors.forEach((k, seq) -> w.cursor(new CursorUpdate(k.user(), k.device(), seq)));
    rooms.forEach((id, room) -> w.roomState(id, room.owner, room.roomSeq, room.members));
    return w.finish();
  }

  @Override
  public Future<List<AppendResult>> append(List<AppendRequest> batch, List<CursorUpdate> moves, long now) {
    return storedKeys(batch, now).compose(existing -> {
      Map<String, InboxHead> heads = new HashMap<>();
      for (AppendRequest request : batch) {
        if (request.isRoom()) {
          Rooms.Room room = rooms.get(request.room());
          if (room != null) {
            room.members.forEach(member -> putHead(heads, member));
          }
          continue;
        }
        for (AppendRequest.Recipient r : request.recipients()) {
          putHead(heads, r.to());
        }
      }
      AppendPlanner.Plan plan = planner.plan(batch, heads, existing, rooms::view);
      if (plan.rows().isEmpty() && plan.newKeys().isEmpty() && moves.isEmpty() && plan.roomSeqs().isEmpty()) {
        return Future.succeededFuture(plan.results());
      }
      ByteBuffer checkpoint = log.active().size >= config.logSegmentBytes() ? checkpoint() : null;
      LogSegments.Segment[] sealed = new LogSegments.Segment[1];
      return vertx.executeBlocking(() -> {
        int[] messageOffsets = new int[plan.rows().size()];
        int[] keyOffsets = new int[plan.newKeys().size()];
        ByteBuffer entries = LogEntries.commit(plan.rows(), plan.newKeys(), moves, plan.roomSeqs(), now, messageOffsets,
            keyOffsets).finish();
        int[] messageCrcs = new int[messageOffsets.length];
        for (int i = 0; i < messageOffsets.length; i++) {
          messageCrcs[i] = LogEntries.messageCrc(entries, messageOffsets[i]);
        }
        if (checkpoint != null) {
          sealed[0] = roll(checkpoint, now);
        }
        long position = log.append(entries, now, (builder, at) ->
            builder.commit(at, plan.rows(), messageOffsets, messageCrcs, plan.newKeys(), keyOffsets, now, moves));
        return new Written(position, messageOffsets, keyOffsets, log.active());
      }, false).onComplete(ar -> indexLater(sealed[0])).map(written -> {
        apply(plan, moves, now, written);
        return plan.results();
      });
    });
  }

  private void putHead(Map<String, InboxHead> heads, String user) {
    UserLog inbox = inboxes.get(user);
    if (inbox != null) {
      heads.put(user, inbox.head());
    }
  }

  /** Makes a written commit visible: indexes, heads, keys and cursors change only after the disk did. */
  private void apply(AppendPlanner.Plan plan, List<CursorUpdate> moves, long now, Written written) {
    addRows(plan.rows(), written);
    plan.roomSeqs().forEach(rooms::advance);
    List<AppendPlanner.NewSendKey> newKeys = plan.newKeys();
    for (int i = 0; i < newKeys.size(); i++) {
      AppendPlanner.SendKey k = newKeys.get(i).key();
      keys.add(KeyPositions.hash(k.sender(), k.key()), written.position() + written.keyOffsets()[i], now);
      written.segment().newestKey = Math.max(written.segment().newestKey, now);
    }
    for (CursorUpdate c : moves) {
      cursors.merge(new DeviceKey(c.user(), c.device()), c.seq(), Math::max);
    }
  }

  private void addRows(List<StoredMessage> rows, Written written) {
    for (int i = 0; i < rows.size(); i++) {
      StoredMessage m = rows.get(i);
      inboxes.computeIfAbsent(m.to(), u -> new UserLog()).add(m.seq(), written.position() + written.messageOffsets()[i], m.ts());
      written.segment().newestMessage = Math.max(written.segment().newestMessage, m.ts());
    }
  }

  @Override
  public Future<RoomChangeResult> changeRoom(RoomChange change, long now) {
    RoomRules.View view = rooms.view(change.room());
    String about = RoomRules.about(change);
    ErrorCode refused = roomRules.check(change, view, rooms.roomCount(about));
    if (refused != null) {
      return Future.succeededFuture(RoomChangeResult.refused(refused));
    }
    if (RoomRules.changesNothing(change, view)) {
      return Future.succeededFuture(new RoomChangeResult(null, view.roomSeq(), List.of()));
    }
    long roomSeq = view.roomSeq() + 1;
    List<String> told = roomRules.told(change, view);
    List<StoredMessage> events = new ArrayList<>(told.size());
    for (String member : told) {
      UserLog inbox = inboxes.get(member);
      long seq = (inbox == null ? 0 : inbox.lastSeq()) + 1;
      events.add(new StoredMessage(change.msgId(), seq, change.by(), member, about, change.ts(), change.room(), roomSeq,
          change.op().event()));
    }
    byte op = switch (change.op()) {
      case CREATE -> LogEntries.ROOM_CREATED;
      case ADD -> LogEntries.ROOM_ADDED;
      case REMOVE -> LogEntries.ROOM_REMOVED;
    };
    ByteBuffer checkpoint = log.active().size >= config.logSegmentBytes() ? checkpoint() : null;
    LogSegments.Segment[] sealed = new LogSegments.Segment[1];
    return vertx.executeBlocking(() -> {
      int[] messageOffsets = new int[events.size()];
      ByteBuffer entries = LogEntries.roomChange(events, op, change.by(), about, change.room(), roomSeq, messageOffsets)
          .finish();
      int[] messageCrcs = new int[messageOffsets.length];
      for (int i = 0; i < messageOffsets.length; i++) {
        messageCrcs[i] = LogEntries.messageCrc(entries, messageOffsets[i]);
      }
      if (checkpoint != null) {
        sealed[0] = roll(checkpoint, now);
      }
      long position = log.append(entries, now, (builder, at) ->
          builder.commit(at, events, messageOffsets, messageCrcs, List.of(), new int[0], now, List.of()));
      return new Written(position, messageOffsets, new int[0], log.active());
    }, false).onComplete(ar -> indexLater(sealed[0])).map(written -> {
      addRows(events, written);
      rooms.apply(change.room(), change.op(), change.by(), about, roomSeq);
      return new RoomChangeResult(null, roomSeq, events);
    });
  }

  @Override
  public Future<RoomInfo> room(String room) {
    return Future.succeededFuture(rooms.info(room));
  }

  @Override
  public Future<List<String>> rooms(String user) {
    return Future.succeededFuture(rooms.roomsOf(user));
  }

  /** What the batch's keys answered within the window: candidates from memory, confirmed from the log. */
  private Future<Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult>> storedKeys(List<AppendRequest> batch, long now) {
    Map<AppendPlanner.SendKey, List<Long>> candidates = new HashMap<>();
    for (AppendPlanner.SendKey key : InboxRows.sendKeys(batch)) {
      keys.candidates(KeyPositions.hash(key.sender(), key.key()), now,
          position -> candidates.computeIfAbsent(key, k -> new ArrayList<>()).add(position));
    }
    if (candidates.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    long since = now - config.idempotencyWindowMillis();
    return vertx.executeBlocking(() -> {
      Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult> found = new HashMap<>();
      Map<AppendPlanner.SendKey, Long> foundAt = new HashMap<>();
      for (Map.Entry<AppendPlanner.SendKey, List<Long>> e : candidates.entrySet()) {
        AppendPlanner.SendKey key = e.getKey();
        for (long position : e.getValue()) {
          ByteBuffer bytes = log.readEntry(position, READ_HINT);
          if (bytes == null) {
            // Its segment expired and was deleted: the key is older than the window.
            continue;
          }
          LogEntries.KeyEntry entry = LogEntries.sendKey(bytes);
          boolean same = entry.sender().equals(key.sender()) && entry.key().equals(key.key());
          if (same && entry.createdAt() >= since && entry.createdAt() > foundAt.getOrDefault(key, Long.MIN_VALUE)) {
            foundAt.put(key, entry.createdAt());
            found.put(key, new AppendPlanner.KeyedResult(entry.fingerprint(),
                AppendResult.fromJson(new JsonObject(entry.result()))));
          }
        }
      }
      return found;
    }, false);
  }

  @Override
  public Future<InboxPage> read(String user, long after, int limit, long now) {
    UserLog inbox = inboxes.get(user);
    long head = inbox == null ? 0 : inbox.lastSeq();
    if (inbox == null || head <= after || limit <= 0) {
      return Future.succeededFuture(new InboxPage(after, head, List.of()));
    }
    long notBefore = now - config.retentionMillis();
    int room = (int) Math.min(limit, inbox.stored());
    long[] positions = new long[room];
    long[] seqs = new long[room];
    int n = inbox.positionsAfter(after, notBefore, room, positions, seqs);
    List<LogSegments.Segment> sealed = inbox.readsIndex(after) ? sealedSegments(inbox) : List.of();
    if (n == 0 && sealed.isEmpty()) {
      return Future.succeededFuture(new InboxPage(after, head, List.of()));
    }
    return vertx.executeBlocking(() -> {
      List<StoredMessage> messages = new ArrayList<>(room);
      readSealed(sealed, user, after, notBefore, room, messages);
      for (int i = 0; i < n && messages.size() < room; i++) {
        messages.add(readMessage(positions[i], user, seqs[i]));
      }
      return new InboxPage(after, head, messages);
    }, false);
  }

  /** The segments that hold the messages of {@code inbox} found through their index files, oldest first. */
  private List<LogSegments.Segment> sealedSegments(UserLog inbox) {
    List<LogSegments.Segment> sealed = new ArrayList<>();
    for (LogSegments.Segment segment : log.between(inbox.sealedFrom(), inbox.sealedTo())) {
      if (segment.end() > sealedEnd) {
        break;
      }
      sealed.add(segment);
    }
    return sealed;
  }

  /**
   * Adds {@code user}'s messages past {@code after} from the index files of {@code sealed}, up to
   * {@code room}: from the first segment holding one, found by {@link #firstHolding}, onward.
   */
  private void readSealed(List<LogSegments.Segment> sealed, String user, long after, long notBefore, int room,
                          List<StoredMessage> out) throws IOException {
    long hash = SegmentIndex.userHash(user);
    SegmentIndex.Search[] found = new SegmentIndex.Search[1];
    int first = firstHolding(sealed, hash, after, found);
    for (int i = first; i < sealed.size() && out.size() < room; i++) {
      LogSegments.Segment segment = sealed.get(i);
      SegmentIndex.Search search = i == first ? found[0] : search(segment, hash, after);
      search.walk((seq, position, time, crc) -> {
        if (time >= notBefore) {
          StoredMessage message = verifiedMessage(segment, position, crc);
          // Another user with the same hash shares the run: theirs are skipped.
          if (message.to().equals(user)) {
            if (message.seq() != seq) {
              throw new IOException("log position " + position + " holds " + user + "#" + message.seq()
                  + ", where its index says #" + seq);
            }
            out.add(message);
          }
        }
        return out.size() < room;
      });
    }
  }

  /**
   * The first of {@code sealed} (oldest first) holding a message of {@code hash} past {@code after}
   * (its search in {@code found}), or {@code sealed.size()}: a bisection, as an inbox's seqs rise with
   * the log. A segment without the user tells nothing, so the segments before it are searched back
   * to one that has the user; each is searched once, and lies outside the bisection's range after.
   */
  private int firstHolding(List<LogSegments.Segment> sealed, long hash, long after, SegmentIndex.Search[] found)
      throws IOException {
    // No segment before lo holds a message past after; the one at hi does (or hi is the end).
    int lo = 0;
    int hi = sealed.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      SegmentIndex.Search search = search(sealed.get(mid), hash, after);
      int at = mid;
      while (search.holds() == SegmentIndex.Holds.NOTHING && at > lo) {
        search = search(sealed.get(--at), hash, after);
      }
      if (search.holds() == SegmentIndex.Holds.PAST) {
        hi = at;
        found[0] = search;
      } else {
        lo = mid + 1;
      }
    }
    return hi;
  }

  private SegmentIndex.Search search(LogSegments.Segment segment, long hash, long after) throws IOException {
    indexSearches.incrementAndGet();
    return SegmentIndex.search(pages, segment, hash, after);
  }

  /**
   * The message at {@code position} of a sealed segment, checked against the CRC-32C its index holds
   * for it, so that no damaged byte reaches a client even before the background check read the
   * segment. A mismatch reports the segment damaged and fails the read.
   */
  private StoredMessage verifiedMessage(LogSegments.Segment segment, long position, int crc) throws IOException {
    try {
      ByteBuffer bytes = entry(position);
      long back;
      try {
        back = LogEntries.bodyBack(bytes);
      } catch (RuntimeException garbage) {
        back = 0; // the CRC below tells
      }
      ByteBuffer body = null;
      if (back != 0) {
        if (back < 0 || back > position - segment.base) {
          throw mismatch(segment, position);
        }
        body = entry(position - back);
      }
      if (LogEntries.messageCrc(bytes, body) != crc) {
        throw mismatch(segment, position);
      }
      LogEntries.MessageEntry entry = LogEntries.message(bytes);
      return entry.withBody(body == null ? entry.body() : LogEntries.message(body).body());
    } catch (DamagedEntryException e) {
      damage.found(segment, "a read found " + e.getMessage());
      throw e;
    }
  }

  private static DamagedEntryException mismatch(LogSegments.Segment segment, long position) {
    return new DamagedEntryException("the message entry at offset " + (position - segment.base) + " of "
        + segment.file + " does not match the CRC-32C its index holds");
  }

  private StoredMessage readMessage(long position, String user, long seq) throws IOException {
    return withBody(LogEntries.message(entry(position)), position, user, seq);
  }

  private StoredMessage withBody(LogEntries.MessageEntry entry, long position, String user, long seq) throws IOException {
    if (!entry.recipient().equals(user) || entry.seq() != seq) {
      throw new IOException("log position " + position + " holds " + entry.recipient() + "#" + entry.seq()
          + ", not " + user + "#" + seq);
    }
    String body = entry.body() != null
        ? entry.body()
        : LogEntries.message(entry(position - entry.bodyBack())).body();
    return entry.withBody(body);
  }

  /** An entry an index points at: its segment is kept until no index does. */
  private ByteBuffer entry(long position) throws IOException {
    ByteBuffer bytes = log.readEntry(position, READ_HINT);
    if (bytes == null) {
      throw new IOException("log position " + position + " is in a deleted segment");
    }
    return bytes;
  }

  @Override
  public Future<Long> cursor(String user, String device) {
    return Future.succeededFuture(cursors.getOrDefault(new DeviceKey(user, device), 0L));
  }

  @Override
  public Future<Map<DeviceKey, Long>> cursors(Collection<DeviceKey> devices) {
    Map<DeviceKey, Long> found = new HashMap<>(devices.size() * 2);
    for (DeviceKey key : devices) {
      found.put(key, cursors.getOrDefault(key, 0L));
    }
    return Future.succeededFuture(found);
  }

  @Override
  public Future<Long> purge(long now) {
    long cutoff = now - config.retentionMillis();
    long removed = 0;
    for (UserLog inbox : inboxes.values()) {
      removed += inbox.dropOlderThan(cutoff);
    }
    List<LogSegments.Segment> deletable = new ArrayList<>(retired);
    retired.clear();
    List<LogSegments.Segment> expired = new ArrayList<>();
    LogSegments.Segment active = log.active();
    for (LogSegments.Segment segment : log.all()) {
      if (segment.retired) {
        continue;
      }
      // Oldest first; stop at the first that still holds a live message or key.
      if (segment == active || segment.newestMessage >= cutoff
          || segment.newestKey >= now - config.idempotencyWindowMillis()) {
        break;
      }
      log.retire(segment);
      retired.add(segment);
      expired.add(segment);
    }
    boolean hasData = active.newestMessage != Long.MIN_VALUE || active.newestKey != Long.MIN_VALUE;
    ByteBuffer checkpoint = hasData && now - active.opened >= Math.min(config.retentionMillis(), MAX_SEGMENT_AGE_MILLIS)
        ? checkpoint() : null;
    if (deletable.isEmpty() && expired.isEmpty() && checkpoint == null) {
      return Future.succeededFuture(removed);
    }
    long dropped = removed;
    return indexing.compose(v -> {
      long counted = sealedEnd;
      return vertx.executeBlocking(() -> {
        readCounts(expired, counted);
        return deleteOldest(deletable, counted);
      }, false);
    }).compose(left -> {
      // What could not be deleted stays retired, oldest first, for the next purge.
      retired.addAll(0, left);
      long total = dropped + sealedGone(deletable) + sealedGone(expired);
      sealIndexed();
      if (checkpoint == null) {
        return Future.succeededFuture(total);
      }
      return vertx.executeBlocking(() -> log.roll(checkpoint, now), false).map(sealed -> {
        indexLater(sealed);
        return total;
      });
    });
  }

  /**
   * Starts a new segment because the active one is full; if that fails, the commit goes on in the
   * active one. Returns the segment sealed, or null.
   */
  private LogSegments.Segment roll(ByteBuffer checkpoint, long now) throws IOException {
    try {
      return log.roll(checkpoint, now);
    } catch (WritesStoppedException e) {
      throw e;
    } catch (IOException e) {
      LOG.warn("inbox log: could not start a new segment ({}); appending to the current one, trying again at the"
          + " next commit", e.toString());
      return null;
    }
  }

  /**
   * Writes the index of a segment just sealed on a worker thread, after any index still being
   * written, so the commit that rolled is answered without waiting for it. Purge and close wait for
   * it (they may delete or close the segment); a failure is only logged, as the next start reads the
   * segment's records instead.
   */
  private void indexLater(LogSegments.Segment sealed) {
    if (sealed == null) {
      return;
    }
    LogSegments current = log;
    // A segment whose index write failed before is tried again with each new one.
    List<LogSegments.Segment> unindexed = new ArrayList<>();
    for (LogSegments.Segment segment : current.all()) {
      if (segment != current.active() && !segment.indexed && !segment.retired) {
        unindexed.add(segment);
      }
    }
    indexing = indexing.transform(ignored -> vertx.executeBlocking(() -> {
      unindexed.forEach(current::index);
      return null;
    }, false)).transform(ar -> {
      if (ar.failed()) {
        LOG.warn("inbox log: indexing {} failed", sealed.file, ar.cause());
      }
      if (current == log) {
        sealIndexed();
      }
      return Future.<Void>succeededFuture();
    });
  }

  /**
   * Takes the messages of expired segments out of their inboxes' counts, once each, as soon as their
   * counts were read (messages of segments in the tail left by age already); returns how many.
   */
  private long sealedGone(List<LogSegments.Segment> segments) {
    long gone = 0;
    for (LogSegments.Segment segment : segments) {
      if (segment.sealedCounts == null || segment.countsApplied) {
        continue;
      }
      segment.countsApplied = true;
      for (Map.Entry<String, long[]> e : segment.sealedCounts.entrySet()) {
        UserLog inbox = inboxes.get(e.getKey());
        if (inbox != null) {
          long[] c = e.getValue();
          gone += inbox.sealedGone((int) c[0], c[1], c[2]);
        }
      }
    }
    return gone;
  }

  /**
   * Moves past every segment whose index is now written and drops the heap entries of its messages
   * (one pass over the inboxes); a segment whose index could not be written keeps them.
   */
  private void sealIndexed() {
    long end = sealedEnd;
    LogSegments.Segment active = log.active();
    for (LogSegments.Segment segment : log.all()) {
      if (segment.end() <= end) {
        continue;
      }
      if (segment == active || !segment.indexed) {
        break;
      }
      end = segment.end();
    }
    if (end != sealedEnd) {
      sealedEnd = end;
      for (UserLog inbox : inboxes.values()) {
        inbox.sealBelow(end);
      }
    }
  }

  private Map<String, long[]> counts(LogSegments.Segment segment) throws IOException {
    Map<String, long[]> counts = new HashMap<>();
    SegmentIndex.counts(files, segment, (user, messages, minSeq, maxSeq) ->
        counts.put(user, new long[] {messages, minSeq, maxSeq}));
    return counts;
  }

  /**
   * Reads the per-user message counts of segments just expired (those below {@code counted}), so that
   * they leave the cap now rather than when the file goes; a failure is read again before the delete.
   */
  private void readCounts(List<LogSegments.Segment> expired, long counted) {
    for (LogSegments.Segment segment : expired) {
      if (segment.end() <= counted && segment.sealedCounts == null) {
        try {
          segment.sealedCounts = counts(segment);
        } catch (IOException e) {
          LOG.warn("inbox log: could not read the message counts of expired {} ({}); trying again before it is"
              + " deleted", segment.file, e.toString());
        }
      }
    }
  }

  /**
   * Deletes expired segments oldest first, stopping at the first that fails so that the log keeps no
   * hole; returns those left. Of a segment below {@code counted} the per-user message counts are read
   * from its index first (a failure to read them leaves it, like a failed delete).
   */
  private List<LogSegments.Segment> deleteOldest(List<LogSegments.Segment> deletable, long counted) {
    for (int i = 0; i < deletable.size(); i++) {
      LogSegments.Segment segment = deletable.get(i);
      try {
        if (segment.end() <= counted && segment.sealedCounts == null) {
          segment.sealedCounts = counts(segment);
        }
        log.delete(segment);
        damage.deleted(segment);
      } catch (IOException e) {
        LOG.warn("inbox log: could not delete expired {} ({}); trying again at the next purge",
            deletable.get(i).file, e.toString());
        return new ArrayList<>(deletable.subList(i, deletable.size()));
      }
    }
    return List.of();
  }

  @Override
  public Future<Void> close() {
    if (log == null) {
      return Future.succeededFuture();
    }
    List<LogSegments.Segment> deletable = new ArrayList<>(retired);
    retired.clear();
    return indexing.compose(v -> {
      return vertx.executeBlocking(() -> {
        check.close();
        // Counts are of no use any more: nothing is read before the segments go.
        deleteOldest(deletable, Long.MIN_VALUE);
        log.close();
        return null;
      }, false);
    });
  }
}
