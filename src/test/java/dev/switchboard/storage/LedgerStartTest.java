package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Index format v5: a start takes the sealed segments a ledger chain covers from two ledgers, one
 * summary and the newest state; the state it builds is the one a start reading every summary builds,
 * and what it reads does not grow with the number of sealed segments.
 */
class LedgerStartTest extends LogTestSupport {

  private static final int USERS = 30;

  private static String user(int i) {
    return "user-" + i;
  }

  private LogInboxStore open(Path dir, long segmentBytes, boolean ledgers, LogFiles files) throws Exception {
    LogInboxStore store = new LogInboxStore(vertx, config(dir, segmentBytes, false), files, TEST_CLOCK);
    if (!ledgers) {
      store.withoutLedgers();
    }
    await(store::open);
    return store;
  }

  private static List<Path> files(Path dir, String suffix) throws IOException {
    try (Stream<Path> files = Files.list(dir.resolve("log"))) {
      return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  /** Heads, stored counts and every inbox read whole: what two starts of one log must agree on. */
  private void sameState(LogInboxStore fast, LogInboxStore slow, long now, String where) throws Exception {
    Map<String, InboxHead> heads = await(fast::inboxHeads);
    assertEquals(await(slow::inboxHeads), heads, where + ": heads and stored counts");
    for (String user : heads.keySet()) {
      InboxPage a = await(() -> fast.read(user, 0, 1_000_000, now));
      InboxPage b = await(() -> slow.read(user, 0, 1_000_000, now));
      assertEquals(b, a, where + ": " + user + " read whole");
      long middle = a.messages().isEmpty() ? 0 : a.messages().get(a.messages().size() / 2).seq();
      assertEquals(await(() -> slow.read(user, middle, 7, now)), await(() -> fast.read(user, middle, 7, now)),
          where + ": " + user + " read from " + middle);
    }
  }

  @Test
  @DisplayName("a log of tiny segments, many users, acks, purges of old segments and restarts: a start through ledgers builds the very state a start reading every summary builds, and both stores answer alike afterwards")
  void ledgerStartMatchesSummaries() throws Exception {
    Path fastDir = dataDir.resolve("fast");
    Path slowDir = dataDir.resolve("slow");
    Random random = new Random(18);
    long now = 1_000;
    int ids = 0;
    int byLedger = 0;
    LogInboxStore fast = open(fastDir, 700, true, SystemLogFiles.INSTANCE);
    LogInboxStore slow = open(slowDir, 700, false, SystemLogFiles.INSTANCE);
    try {
      for (int round = 0; round < 24; round++) {
        LogInboxStore f = fast;
        LogInboxStore s = slow;
        for (int i = 0; i < 40; i++) {
          List<AppendRequest.Recipient> to = new ArrayList<>();
          int first = random.nextInt(USERS);
          for (int r = 0; r < 1 + random.nextInt(3); r++) {
            String u = user((first + r * 7) % USERS);
            to.add(new AppendRequest.Recipient(u, "m" + ids + "-" + u));
          }
          AppendRequest request = new AppendRequest("alice", "b" + ids + "x".repeat(random.nextInt(40)), now,
              random.nextInt(4) == 0 ? "k" + ids : null, to);
          ids++;
          long at = now;
          List<CursorUpdate> acks = random.nextInt(5) == 0
              ? List.of(new CursorUpdate(user(random.nextInt(USERS)), "phone", random.nextInt(5))) : List.of();
          List<AppendResult> a = await(() -> f.append(List.of(request), acks, at));
          assertEquals(await(() -> s.append(List.of(request), acks, at)), a, "round " + round + ": append");
          now += 1_000 + random.nextInt(60_000);
        }
        long at = now;
        assertEquals(await(() -> s.purge(at)), await(() -> f.purge(at)), "round " + round + ": purge");
        if (round % 3 == 2) {
          await(fast::close);
          await(slow::close);
          fast = open(fastDir, 700, true, SystemLogFiles.INSTANCE);
          slow = open(slowDir, 700, false, SystemLogFiles.INSTANCE);
          assertEquals(0, slow.openedByLedger(), "the slow store reads every summary");
          assertEquals(slow.openedByIndex(), fast.openedByIndex(), "round " + round + ": segments through their index");
          byLedger += fast.openedByLedger() > 1 ? 1 : 0;
          sameState(fast, slow, now, "round " + round);
        }
      }
      assertTrue(byLedger >= 6, "most restarts went through ledgers: " + byLedger);
      assertTrue(files(fastDir, ".log").size() >= 10, "many sealed segments: " + files(fastDir, ".log"));
      assertTrue(files(fastDir, ".log").get(0).getFileName().toString().compareTo("00000000000000000000.log") > 0,
          "old segments were purged");
    } finally {
      LogInboxStore f = fast;
      LogInboxStore s = slow;
      await(f::close);
      await(s::close);
    }
    // The same files, opened both ways.
    Path copy = dataDir.resolve("copy");
    copyLog(fastDir, copy);
    LogInboxStore a = open(fastDir, 700, true, SystemLogFiles.INSTANCE);
    LogInboxStore b = open(copy, 700, false, SystemLogFiles.INSTANCE);
    try {
      assertTrue(a.openedByLedger() > 1, "through ledgers: " + a.openedByLedger());
      sameState(a, b, now, "one log opened both ways");
    } finally {
      await(a::close);
      await(b::close);
    }
  }

  /** Writes {@code rounds} rounds of one message to every user, segments of {@code segmentBytes}; returns when it ended. */
  private long fill(Path dir, long segmentBytes, int rounds) throws Exception {
    LogInboxStore store = open(dir, segmentBytes, true, SystemLogFiles.INSTANCE);
    long now = 1_000;
    try {
      for (int round = 0; round < rounds; round++) {
        List<AppendRequest> batch = new ArrayList<>();
        for (int u = 0; u < USERS; u++) {
          batch.add(new AppendRequest("alice", "r" + round + "-" + u, now, null,
              List.of(new AppendRequest.Recipient(user(u), "m" + round + "-" + u))));
        }
        long at = now;
        await(() -> store.append(batch, List.of(), at));
        now += 10;
      }
    } finally {
      await(store::close);
    }
    return now;
  }

  /** Bytes a start read from index files, less the header every sealed segment's index gives. */
  private long indexBytesReadAtStart(Path dir, long segmentBytes, long now, String where) throws Exception {
    CountingLogFiles counting = new CountingLogFiles();
    LogInboxStore store = new LogInboxStore(vertx, config(dir, segmentBytes, false), counting, () -> now);
    io.vertx.core.Promise<Void> gate = io.vertx.core.Promise.promise();
    store.holdBackgroundCheck(gate.future());
    await(store::open);
    List<Path> indexes = files(dir, SegmentIndex.SUFFIX);
    long read = 0;
    try {
      assertEquals(indexes.size(), store.openedByLedger(), where + ": every sealed segment through ledgers");
      for (Path index : indexes) {
        read += counting.bytesRead(index) - SegmentIndex.HEADER;
      }
    } finally {
      gate.complete();
      await(store::close);
    }
    Path copy = dataDir.resolve(where + "-copy");
    copyLog(dir, copy);
    LogInboxStore a = open(dir, segmentBytes, true, SystemLogFiles.INSTANCE);
    LogInboxStore b = open(copy, segmentBytes, false, SystemLogFiles.INSTANCE);
    try {
      sameState(a, b, now, where);
    } finally {
      await(a::close);
      await(b::close);
    }
    return read;
  }

  @Test
  @DisplayName("with the same users in every segment, a start over 40 sealed segments reads no more of the indexes than one over 4, headers aside, and builds the state a start reading every summary builds")
  void startReadsDoNotGrowWithSegments() throws Exception {
    Path few = dataDir.resolve("few");
    Path many = dataDir.resolve("many");
    // One round (a message to each user) is one commit; a segment holds about one round.
    long endFew = fill(few, 1500, 5);
    long endMany = fill(many, 1500, 41);
    int sealedFew = files(few, SegmentIndex.SUFFIX).size();
    int sealedMany = files(many, SegmentIndex.SUFFIX).size();
    assertTrue(sealedFew >= 3 && sealedFew <= 6, "a few sealed segments: " + sealedFew);
    assertTrue(sealedMany >= 35, "many sealed segments: " + sealedMany);
    long readFew = indexBytesReadAtStart(few, 1500, endFew, "few");
    long readMany = indexBytesReadAtStart(many, 1500, endMany, "many");
    assertTrue(Math.abs(readMany - readFew) < 256, "bytes of index read at start, headers aside: " + readFew
        + " over " + sealedFew + " sealed segments, " + readMany + " over " + sealedMany);
  }

  private static SegmentIndex.Header header(Path index) throws IOException {
    String[] why = new String[1];
    SegmentIndex.Header header = SegmentIndex.Header.of(java.nio.ByteBuffer.wrap(Files.readAllBytes(index)), why);
    assertTrue(header != null, index + ": " + why[0]);
    return header;
  }

  /** Opens {@code dir} (through ledgers if it can) and a copy of it read through every summary, and compares them. */
  private LogInboxStore openAndCompare(Path dir, long now, String where) throws Exception {
    Path copy = dataDir.resolve(where + "-copy");
    copyLog(dir, copy);
    LogInboxStore slow = open(copy, 1500, false, SystemLogFiles.INSTANCE);
    LogInboxStore store = open(dir, 1500, true, SystemLogFiles.INSTANCE);
    try {
      sameState(store, slow, now, where);
    } finally {
      await(slow::close);
    }
    return store;
  }

  @Test
  @DisplayName("a newest ledger that fails its CRC-32C: a WARN names the file, the start reads every summary with nothing lost, and the next segment sealed starts the ledgers again")
  void damagedLedger() throws Exception {
    Path dir = dataDir.resolve("log-a");
    long now = fill(dir, 1500, 12);
    List<Path> indexes = files(dir, SegmentIndex.SUFFIX);
    Path newest = indexes.get(indexes.size() - 1);
    SegmentIndex.Header h = header(newest);
    flipByte(newest, h.ledgerAt() + h.ledgerBytes() / 2);
    LogInboxStore[] opened = new LogInboxStore[1];
    List<ch.qos.logback.classic.spi.ILoggingEvent> events = logged(() -> opened[0] = openAndCompare(dir, now, "damaged"));
    LogInboxStore store = opened[0];
    try {
      assertEquals(0, store.openedByLedger(), "every summary read");
      assertEquals(indexes.size(), store.openedByIndex(), "every index still used");
      assertTrue(events.stream().anyMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN
          && e.getFormattedMessage().contains(newest.toString()) && e.getFormattedMessage().contains("ledger")),
          "a WARN names the damaged ledger's file");
      for (int u = 0; u < USERS; u++) {
        assertEquals(13, append(store, user(u), "after", now), user(u) + ": no seq handed out twice");
      }
      // Rolls the segment holding the damaged ledger's successor: sealed with a ledger computed from the summaries.
      fillMore(store, now + 1, 3);
    } finally {
      await(store::close);
    }
    LogInboxStore again = openAndCompare(dir, now + 100, "after-damage");
    try {
      assertTrue(again.openedByLedger() > 1, "through ledgers again: " + again.openedByLedger());
    } finally {
      await(again::close);
    }
  }

  private void fillMore(LogInboxStore store, long now, int rounds) throws Exception {
    for (int round = 0; round < rounds; round++) {
      List<AppendRequest> batch = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        batch.add(new AppendRequest("alice", "more" + round + "-" + u, now, null,
            List.of(new AppendRequest.Recipient(user(u), "more" + round + "-" + u))));
      }
      await(() -> store.append(batch, List.of(), now));
    }
    await(store::indexesWritten);
  }

  @Test
  @DisplayName("a flipped byte in an index's page CRC-32Cs (which no start reads): the first read through that segment fails as damage and marks it, and the next start rebuilds its index with nothing lost")
  void damagedPageCrcs() throws Exception {
    Path dir = dataDir.resolve("log-b");
    long now = fill(dir, 1500, 12);
    List<Path> indexes = files(dir, SegmentIndex.SUFFIX);
    Path index = indexes.get(indexes.size() / 2);
    Path segment = index.resolveSibling(index.getFileName().toString().replace(".idx", ".log"));
    flipByte(index, header(index).pagesAt() + 1);
    LogInboxStore store = open(dir, 1500, true, SystemLogFiles.INSTANCE);
    try {
      assertEquals(indexes.size(), store.openedByLedger(), "the start reads no page CRC-32C");
      Exception failed = org.junit.jupiter.api.Assertions.assertThrows(DamagedEntryException.class,
          () -> await(() -> store.read(user(0), 0, 1_000_000, now)));
      assertTrue(failed.getMessage().contains("page CRC-32Cs"), failed.getMessage());
      assertEquals(List.of(segment.toString()), store.damagedSegments());
      assertTrue(Files.exists(SegmentDamage.markerFor(segment)), "marked for the next start");
    } finally {
      await(store::close);
    }
    LogInboxStore again = openAndCompare(dir, now, "rebuilt");
    try {
      assertEquals(List.of(), again.damagedSegments());
      assertEquals(12, await(() -> again.read(user(0), 0, 1_000_000, now)).messages().size(), "nothing lost");
    } finally {
      await(again::close);
    }
    LogInboxStore third = openAndCompare(dir, now, "third");
    try {
      assertEquals(indexes.size(), third.openedByLedger(), "the rebuilt index continues the chain");
    } finally {
      await(third::close);
    }
  }

  @Test
  @DisplayName("a sealed segment's index deleted: that start reads the segment and every summary and writes the index again, and the next start goes through ledgers over every segment")
  void lostIndexRejoinsTheChain() throws Exception {
    Path dir = dataDir.resolve("log-c");
    long now = fill(dir, 1500, 12);
    List<Path> indexes = files(dir, SegmentIndex.SUFFIX);
    Files.delete(indexes.get(2));
    LogInboxStore store = openAndCompare(dir, now, "lost");
    try {
      assertEquals(0, store.openedByLedger());
      assertEquals(indexes.size() - 1, store.openedByIndex());
    } finally {
      await(store::close);
    }
    LogInboxStore again = openAndCompare(dir, now, "rejoined");
    try {
      assertEquals(indexes.size(), again.openedByLedger(), "the index written again holds the chain the others continue");
    } finally {
      await(again::close);
    }
  }

  /** The real file system, but the index file first written while armed cannot be created until released. */
  private static final class FailingIndexWrite extends ForwardingLogFiles {
    private volatile boolean armed;
    private volatile Path failing;

    @Override
    public Channel create(Path file) throws IOException {
      if (file.getFileName().toString().endsWith(SegmentIndex.SUFFIX + LogSegments.TEMP_SUFFIX)) {
        if (armed && failing == null) {
          failing = file;
        }
        if (file.equals(failing)) {
          throw new IOException("test: cannot create " + file);
        }
      }
      return super.create(file);
    }
  }

  private void round(LogInboxStore store, long now) throws Exception {
    fillMore(store, now, 1);
  }

  @Test
  @DisplayName("an index that could not be written at its roll while the next one was: the ledgers start a new chain there, and a start reads the summaries of the segments before it and takes the rest through ledgers, building the state a start reading every summary builds")
  void newChainAfterAFailedIndexWrite() throws Exception {
    Path dir = dataDir.resolve("log-d");
    FailingIndexWrite files = new FailingIndexWrite();
    LogInboxStore store = open(dir, 1500, true, files);
    long now = 1_000;
    try {
      for (int i = 0; i < 6; i++) {
        round(store, now++);
      }
      files.armed = true;
      while (files.failing == null) {
        round(store, now++);
      }
      Path failed = files.failing;
      String failedIndex = failed.getFileName().toString().replace(LogSegments.TEMP_SUFFIX, "");
      int before = files(dir, SegmentIndex.SUFFIX).size();
      // Later segments are indexed while the failed one still is not: they start a chain of their own.
      while (files(dir, SegmentIndex.SUFFIX).size() < before + 2) {
        round(store, now++);
      }
      assertTrue(Files.notExists(dir.resolve("log").resolve(failedIndex)), failedIndex + " not written");
      files.failing = null;
      files.armed = false;
      round(store, now++);
      round(store, now++);
      assertTrue(Files.exists(dir.resolve("log").resolve(failedIndex)), failedIndex + " written at a later roll");
    } finally {
      await(store::close);
    }
    LogInboxStore again = openAndCompare(dir, now, "new-chain");
    try {
      assertTrue(again.openedByLedger() >= 3 && again.openedByLedger() < again.openedByIndex() - 5,
          "the segments from the new chain's origin through ledgers, those before through summaries: "
              + again.openedByLedger() + " of " + again.openedByIndex());
    } finally {
      await(again::close);
    }
  }
}
