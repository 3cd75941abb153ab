package dev.switchboard.storage;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The log engine's fault suite, as trusted stores are tested: a workload of appends, acks, rolls
 * (tiny segments, each sealed one indexed) and purges is run once for every N up to its count of
 * file operations, with the Nth failing; the log is truncated at every offset of its newest segment; a byte is flipped in
 * every record of the newest and of an older segment. After each, the store is reopened and the
 * invariants checked: every accepted message reads back under its seq, no seq twice, heads never
 * below an accepted seq, cursors at most the head, and the next append continues past everything.
 */
class LogFaultSuiteTest extends LogTestSupport {

  private static final long SEGMENT = 400;
  private static final String[] USERS = {"bob", "carol", "dave"};

  private Logger storageLog;
  private Level storageLevel;

  @BeforeEach
  void quietStorage() {
    // Hundreds of injected faults each log a warning or an error; the assertions say what matters.
    storageLog = (Logger) LoggerFactory.getLogger("dev.switchboard.storage");
    storageLevel = storageLog.getLevel();
    storageLog.setLevel(Level.OFF);
  }

  @AfterEach
  void restoreLogging() {
    storageLog.setLevel(storageLevel);
  }

  /** What the workload was told: messages accepted (by user and seq) and cursor moves committed. */
  static final class Accepted {
    final Map<String, TreeMap<Long, StoredMessage>> messages = new HashMap<>();
    final Map<String, Long> acks = new HashMap<>();
    final Map<String, AppendResult> keyed = new HashMap<>();

    long maxSeq(String user) {
      TreeMap<Long, StoredMessage> m = messages.get(user);
      return m == null || m.isEmpty() ? 0 : m.lastKey();
    }

    void record(AppendRequest request, AppendResult result) {
      if (result.duplicate()) {
        AppendResult first = keyed.get(request.idempotencyKey());
        if (first != null) {
          assertEquals(first.results(), result.results(), "a retry is answered as the first time");
        }
        return;
      }
      if (request.idempotencyKey() != null) {
        keyed.put(request.idempotencyKey(), result);
      }
      for (RecipientResult r : result.results()) {
        if (r.isStored()) {
          StoredMessage m = new StoredMessage(r.msgId(), r.seq(), request.from(), r.to(), request.body(), request.ts());
          StoredMessage before = messages.computeIfAbsent(r.to(), u -> new TreeMap<>()).put(r.seq(), m);
          assertEquals(null, before, "seq " + r.seq() + " of " + r.to() + " handed out twice");
        }
      }
    }
  }

  /** One append, whose failure is recorded as "not accepted". */
  private boolean tryAppend(InboxStore store, Accepted accepted, List<AppendRequest> batch, List<CursorUpdate> moves,
                            long now) {
    try {
      List<AppendResult> results = await(() -> store.append(batch, moves, now));
      for (int i = 0; i < batch.size(); i++) {
        accepted.record(batch.get(i), results.get(i));
      }
      for (CursorUpdate c : moves) {
        accepted.acks.merge(c.user() + "/" + c.device(), c.seq(), Math::max);
      }
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private void tryPurge(InboxStore store, long now) {
    try {
      await(() -> store.purge(now));
    } catch (Exception e) {
      // Retried at the next purge, as the verticle does.
    }
  }

  /**
   * Reads every inbox from its start (through the sealed segments' index files after a restart): a
   * read may fail, as the client then retries, but one that succeeds holds every accepted message.
   */
  private void tryReads(InboxStore store, Accepted accepted, long now) {
    for (String user : USERS) {
      InboxPage page;
      try {
        page = await(() -> store.read(user, 0, 1000, now));
      } catch (Exception e) {
        continue;
      }
      Map<Long, StoredMessage> bySeq = new HashMap<>();
      page.messages().forEach(m -> bySeq.put(m.seq(), m));
      for (StoredMessage m : accepted.messages.getOrDefault(user, new TreeMap<>()).values()) {
        if (m.ts() >= now - HOUR) {
          assertEquals(m, bySeq.get(m.seq()), "a read that succeeds holds accepted " + user + "#" + m.seq());
        }
      }
    }
  }

  private static AppendRequest message(int i, long ts, String... to) {
    List<AppendRequest.Recipient> recipients = new ArrayList<>();
    for (String user : to) {
      recipients.add(new AppendRequest.Recipient(user, "m" + i + "-" + user));
    }
    return new AppendRequest("alice", "body " + i + " " + "x".repeat(i % 5 * 7), ts, i % 3 == 0 ? "key" + i : null,
        recipients);
  }

  /**
   * Appends, acks, rolls, purges and a restart: about 30 commits across two retention periods.
   * Returns the store it ends with (after the restart), or null if it could not reopen.
   */
  private LogInboxStore workload(LogInboxStore first, InboxConfig config, LogFiles files, Accepted accepted) {
    LogInboxStore store = first;
    long t = 1_000;
    int i = 0;
    for (; i < 14; i++) {
      AppendRequest request = i % 4 == 0 ? message(i, t, "bob", "carol", "dave") : message(i, t, USERS[i % 3]);
      tryAppend(store, accepted, List.of(request), List.of(), t);
      if (i % 5 == 4) {
        tryAppend(store, accepted, List.of(), List.of(new CursorUpdate("bob", "phone", accepted.maxSeq("bob"))), t);
      }
    }
    // A retry of a key: answered as the first time, stored once.
    tryAppend(store, accepted, List.of(message(3, t, USERS[0])), List.of(), t);
    tryPurge(store, t);
    store = restart(store, config, files);
    if (store == null) {
      return null;
    }
    tryReads(store, accepted, t);
    t = HOUR + 5_000;
    for (; i < 20; i++) {
      tryAppend(store, accepted, List.of(message(i, t, USERS[i % 3]), message(i + 100, t, "bob")), List.of(), t);
    }
    tryPurge(store, t);
    tryPurge(store, t + 1);
    for (; i < 24; i++) {
      tryAppend(store, accepted, List.of(message(i, t + 2, USERS[i % 3])),
          List.of(new CursorUpdate("carol", "laptop", accepted.maxSeq("carol"))), t + 2);
    }
    tryPurge(store, t + 3);
    return store;
  }

  /** Closes and reopens the store on the same files, once more if the reopen meets the fault. */
  private LogInboxStore restart(LogInboxStore store, InboxConfig config, LogFiles files) {
    try {
      await(store::close);
    } catch (Exception e) {
      // A close after a fault may fail; the reopen reads what is on disk.
    }
    for (int attempt = 0; attempt < 2; attempt++) {
      LogInboxStore reopened = new LogInboxStore(vertx, config, files, TEST_CLOCK);
      try {
        await(reopened::open);
        // The background check's file operations then come at one place in the count, under the faults too.
        reopened.backgroundCheck().get(20, java.util.concurrent.TimeUnit.SECONDS);
        return reopened;
      } catch (Exception e) {
        try {
          await(reopened::close);
        } catch (Exception ignored) {
          // Nothing to close when the open failed.
        }
      }
    }
    return null;
  }

  private static final long CHECK_AT = HOUR + 10_000;

  /** The real files without real syncs: nothing here loses power, and thousands of opens would only wait on them. */
  private static FaultyLogFiles unsynced() {
    return new FaultyLogFiles().withoutRealSyncs();
  }

  /** Reopens the log on the real file system and checks every invariant against what was accepted. */
  private void checkAfterRestart(Path dir, Accepted accepted, String what) throws Exception {
    LogInboxStore store;
    try {
      store = open(config(dir, SEGMENT, false), unsynced());
    } catch (Exception e) {
      throw new AssertionError(what + ": the log does not reopen: " + e.getMessage(), e);
    }
    try {
      for (String user : USERS) {
        List<StoredMessage> read = readAll(store, user, CHECK_AT);
        Map<Long, StoredMessage> bySeq = new HashMap<>();
        read.forEach(m -> bySeq.put(m.seq(), m));
        for (StoredMessage m : accepted.messages.getOrDefault(user, new TreeMap<>()).values()) {
          if (m.ts() >= CHECK_AT - HOUR) {
            assertEquals(m, bySeq.get(m.seq()), what + ": accepted " + user + "#" + m.seq() + " reads back");
          }
        }
        long head = await(() -> store.read(user, 0, 0, CHECK_AT)).head();
        assertTrue(head >= accepted.maxSeq(user), what + ": head " + head + " of " + user + " below an accepted seq");
        long next = append(store, user, "after restart", CHECK_AT);
        assertEquals(head + 1, next, what + ": the next seq of " + user + " follows the head");
      }
      for (Map.Entry<String, Long> ack : accepted.acks.entrySet()) {
        String[] key = ack.getKey().split("/");
        long cursor = await(() -> store.cursor(key[0], key[1]));
        long head = await(() -> store.read(key[0], 0, 0, CHECK_AT)).head();
        assertTrue(cursor >= ack.getValue(), what + ": committed ack " + ack + " kept, cursor " + cursor);
        assertTrue(cursor <= head, what + ": cursor " + cursor + " past head " + head);
      }
    } finally {
      await(store::close);
    }
  }

  @Test
  @DisplayName("with the Nth file operation failing, for every N of the workload, nothing accepted is lost and no seq is handed out twice")
  void everyOperationFails() throws Exception {
    FaultyLogFiles counting = new FaultyLogFiles().withoutRealSyncs();
    Path clean = dataDir.resolve("clean");
    InboxConfig cleanConfig = config(clean, SEGMENT, false);
    Accepted all = new Accepted();
    LogInboxStore cleanEnd = workload(open(cleanConfig, counting), cleanConfig, counting, all);
    // The workload's restart takes sealed segments from their index files, so index writes and reads are among the faults.
    assertTrue(cleanEnd.openedByIndex() > 0, "the restart read segments through their index");
    await(cleanEnd::close);
    long calls = counting.calls();
    assertTrue(segments(clean).size() >= 2 && calls > 100, calls + " calls, segments " + segments(clean));
    checkAfterRestart(clean, all, "without faults");

    int stopped = 0;
    java.util.Set<String> kindsFailed = new java.util.TreeSet<>();
    for (long n = 1; n <= calls; n++) {
      Path dir = dataDir.resolve("n" + n);
      FaultyLogFiles files = new FaultyLogFiles().withoutRealSyncs().failAt(n,
          java.util.EnumSet.allOf(FaultyLogFiles.Op.class), n % 2 == 0 ? FaultyLogFiles.ENOSPC : "Input/output error");
      Accepted accepted = new Accepted();
      String what = "operation " + n + " failing";
      InboxConfig config = config(dir, SEGMENT, false);
      LogInboxStore first = new LogInboxStore(vertx, config, files, TEST_CLOCK);
      LogInboxStore store;
      try {
        await(first::open);
        store = workload(first, config, files, accepted);
      } catch (Exception e) {
        store = null;
      }
      if (store != null) {
        LogInboxStore ended = store;
        // The fault is gone: the store takes appends again, unless a sync failed (then only a restart does).
        // If the Nth operation comes only now, the first of these appends meets it.
        for (int attempt = 0; attempt < 2; attempt++) {
          boolean firedBefore = files.failed() != null;
          try {
            AppendRequest last = message(99 + attempt, HOUR + 6_000, "bob");
            accepted.record(last, await(() -> ended.append(List.of(last), List.of(), HOUR + 6_000)).get(0));
            break;
          } catch (WritesStoppedException e) {
            stopped++;
            break;
          } catch (Exception e) {
            if (firedBefore || files.failed() == null) {
              fail(what + " (" + files.failed() + "): the store does not take appends once the fault is gone: " + e);
            }
          }
        }
        try {
          await(ended::close);
        } catch (Exception e) {
          // A close after a fault may fail; the restart below is what counts.
        }
      }
      checkAfterRestart(dir, accepted, what + " (" + files.failed() + ")");
      if (files.failed() != null) {
        kindsFailed.add(files.failed().substring(0, files.failed().indexOf(' ')));
      }
    }
    assertTrue(stopped > 0, "some faults were failed syncs, which stop writes");
    assertTrue(kindsFailed.containsAll(List.of("MKDIRS", "LIST", "OPEN", "CREATE", "READ", "WRITE", "FORCE", "SIZE",
        "CLOSE", "RENAME", "DELETE", "SYNC_DIR")), "every kind of operation failed once: " + kindsFailed);
  }

  @Test
  @DisplayName("with the disk filling up at the Nth file operation, for every N of the workload, sends are refused, none accepted is lost, and appends work again once space is freed, without a restart")
  void diskFillsAtEveryPoint() throws Exception {
    FaultyLogFiles counting = unsynced();
    Path clean = dataDir.resolve("clean");
    InboxConfig cleanConfig = config(clean, SEGMENT, false);
    LogInboxStore cleanEnd = workload(open(cleanConfig, counting), cleanConfig, counting, new Accepted());
    await(cleanEnd::close);
    long calls = counting.calls();
    for (long n = 1; n <= calls; n++) {
      Path dir = dataDir.resolve("full" + n);
      FaultyLogFiles files = unsynced().fullAt(n);
      Accepted accepted = new Accepted();
      String what = "disk full from operation " + n;
      InboxConfig config = config(dir, SEGMENT, false);
      LogInboxStore first = new LogInboxStore(vertx, config, files, TEST_CLOCK);
      LogInboxStore store;
      try {
        await(first::open);
        store = workload(first, config, files, accepted);
      } catch (Exception e) {
        store = null;
      }
      files.full(false);
      if (store == null) {
        // The start itself needed space; with space back it starts.
        store = open(config, files);
      }
      LogInboxStore ended = store;
      AppendRequest last = message(99, HOUR + 6_000, "bob");
      try {
        accepted.record(last, await(() -> ended.append(List.of(last), List.of(), HOUR + 6_000)).get(0));
      } catch (Exception e) {
        fail(what + ": appends fail once space is freed: " + e);
      }
      await(ended::close);
      checkAfterRestart(dir, accepted, what);
    }
  }

  /** A log of a few segments, built once without faults; returns what it accepted. */
  private Accepted buildLog(Path dir) throws Exception {
    LogInboxStore store = open(config(dir, SEGMENT, false), unsynced());
    Accepted accepted = new Accepted();
    long t = HOUR + 5_000;
    for (int i = 0; i < 16; i++) {
      tryAppend(store, accepted, List.of(message(i, t, USERS[i % 3])), List.of(), t);
    }
    await(store::close);
    return accepted;
  }

  @Test
  @DisplayName("the newest segment cut at every offset opens with every whole record before the cut, and no seq twice")
  void truncatedAtEveryOffset() throws Exception {
    Path pristine = dataDir.resolve("pristine");
    Accepted accepted = buildLog(pristine);
    List<Path> files = segments(pristine);
    assertTrue(files.size() >= 2, "several segments: " + files);
    Path newest = files.get(files.size() - 1);
    long size = Files.size(newest);
    for (long cut = 0; cut < size; cut++) {
      Path dir = dataDir.resolve("cut" + cut);
      copyLog(pristine, dir);
      Path file = dir.resolve("log").resolve(newest.getFileName());
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        ch.truncate(cut);
      }
      if (cut < LogSegments.FILE_HEADER) {
        long at = cut;
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
            () -> open(config(dir, SEGMENT, false), unsynced()), "cut at " + at);
        assertTrue(e.getMessage().contains(newest.getFileName().toString()), e.getMessage());
        continue;
      }
      LogInboxStore store = open(config(dir, SEGMENT, false), unsynced());
      for (String user : USERS) {
        List<StoredMessage> read = readAll(store, user, CHECK_AT);
        TreeMap<Long, StoredMessage> expected = accepted.messages.get(user);
        // What reads back is what was accepted, a prefix of it: only whole records survive the cut.
        for (StoredMessage m : read) {
          assertEquals(expected.get(m.seq()), m, "cut at " + cut);
        }
        assertEquals(new ArrayList<>(expected.headMap(read.isEmpty() ? 1 : read.get(read.size() - 1).seq() + 1).values()),
            read, "cut at " + cut + ": a prefix");
      }
      await(store::close);
    }
  }

  @Test
  @DisplayName("a byte flipped in any record of the newest or an older segment stops the start (or, in the newest's last record, is cut as a torn write); repair then keeps all the rest")
  void flippedByteInEveryRecord() throws Exception {
    Path pristine = dataDir.resolve("pristine");
    Accepted accepted = buildLog(pristine);
    List<Path> files = segments(pristine);
    Path newest = files.get(files.size() - 1);
    Path older = files.get(files.size() - 2);
    int cases = 0;
    for (Path segment : List.of(older, newest)) {
      List<Long> records = recordOffsets(segment);
      long size = Files.size(segment);
      for (int r = 0; r < records.size(); r++) {
        long start = records.get(r);
        long end = r + 1 < records.size() ? records.get(r + 1) : size;
        Path dir = dataDir.resolve("flip-" + segment.getFileName() + "-" + r);
        copyLog(pristine, dir);
        Path file = dir.resolve("log").resolve(segment.getFileName());
        flipByte(file, (start + end) / 2);
        String what = segment.getFileName() + " record " + r + " at " + start;
        boolean tornTail = segment.equals(newest) && r == records.size() - 1;
        if (tornTail) {
          LogInboxStore store = open(config(dir, SEGMENT, false), unsynced());
          await(store::close);
          assertEquals(start, Files.size(file), what + ": cut as a torn write");
        } else {
          Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
              () -> open(config(dir, SEGMENT, false), unsynced()), what);
          assertTrue(e.getMessage().contains(segment.getFileName().toString()) && e.getMessage().contains("offset " + start),
              what + ": " + e.getMessage());
          LogInboxStore repaired = open(config(dir, SEGMENT, true), unsynced());
          await(repaired::close);
        }
        checkRepaired(dir, accepted, what);
        cases++;
      }
    }
    assertTrue(cases >= 4, cases + " records");
  }

  /** After a repair: every message not in the damaged record reads back, and no accepted seq is handed out again. */
  private void checkRepaired(Path dir, Accepted accepted, String what) throws Exception {
    LogInboxStore store = open(config(dir, SEGMENT, false), unsynced());
    try {
      for (String user : USERS) {
        List<StoredMessage> read = readAll(store, user, CHECK_AT);
        TreeMap<Long, StoredMessage> expected = accepted.messages.get(user);
        for (StoredMessage m : read) {
          assertEquals(expected.get(m.seq()), m, what);
        }
        // One record is one commit of one message here: at most one lost per inbox.
        assertTrue(read.size() >= expected.size() - 1, what + ": " + read.size() + " of " + expected.size());
        long next = append(store, user, "after repair", CHECK_AT);
        assertTrue(next > expected.lastKey(), what + ": next seq " + next + " of " + user + " reuses an accepted one");
      }
    } finally {
      await(store::close);
    }
  }
}
