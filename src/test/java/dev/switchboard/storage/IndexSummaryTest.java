package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import io.vertx.core.Promise;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Index format v5: a start reads each sealed segment's index header, the summary only of the oldest (the
 * ledgers give the rest; LedgerStartTest) and its keys only while they may be inside the idempotency
 * window, never its messages section; reads check each page
 * of that section against its CRC-32C; an index of an older version is rebuilt.
 */
class IndexSummaryTest extends LogTestSupport {

  private static final long T = 10_000;
  /** The test config's idempotency window. */
  private static final long WINDOW = 60_000;
  private static final String[] USERS = {"bob", "carol", "dave", "erin"};

  private record Written(Map<String, List<StoredMessage>> messages, List<AppendRequest> recentKeyed) {
  }

  /** Appends {@code count} sends (ten per commit) from {@code first}, at times from {@code at}; ids if {@code keyPrefix}. */
  private void sends(LogInboxStore store, Written written, int first, int count, long at, String keyPrefix)
      throws Exception {
    for (int i = first; i < first + count; i += 10) {
      List<AppendRequest> batch = new ArrayList<>();
      for (int j = i; j < Math.min(first + count, i + 10); j++) {
        String user = USERS[j % USERS.length];
        String key = keyPrefix == null ? null : keyPrefix + j;
        batch.add(new AppendRequest("alice", "b" + j + "-" + "x".repeat(j % 5 * 7), at + j, key,
            List.of(new AppendRequest.Recipient(user, "m" + j))));
      }
      long now = at + i + 9;
      List<AppendResult> results = await(() -> store.append(batch, List.of(), now));
      for (int k = 0; k < batch.size(); k++) {
        AppendRequest request = batch.get(k);
        results.get(k).results().forEach(r -> written.messages().computeIfAbsent(r.to(), u -> new ArrayList<>())
            .add(new StoredMessage(r.msgId(), r.seq(), "alice", r.to(), request.body(), request.ts())));
        if (keyPrefix != null && keyPrefix.startsWith("new")) {
          written.recentKeyed().add(request);
        }
      }
    }
  }

  private List<Path> indexes() throws IOException {
    try (Stream<Path> files = Files.list(dataDir.resolve("log"))) {
      return files.filter(p -> p.getFileName().toString().endsWith(SegmentIndex.SUFFIX)).sorted().toList();
    }
  }

  private static SegmentIndex.Header header(Path index) throws IOException {
    String[] why = new String[1];
    SegmentIndex.Header header = SegmentIndex.Header.of(ByteBuffer.wrap(Files.readAllBytes(index)), why);
    assertTrue(header != null, index + ": " + why[0]);
    return header;
  }

  private void checkReads(LogInboxStore store, Written written, long now) throws Exception {
    for (String user : USERS) {
      assertEquals(written.messages().get(user), readAll(store, user, now), user);
    }
  }

  @Test
  @DisplayName("a start over many sealed segments reads each index's header, the summary of the oldest, the heads and ledger of the newest only, and keys only while they may be in the window: far less than the messages sections, which reads then fetch page by page")
  void startReadsSummariesOnly() throws Exception {
    InboxConfig config = config(16 * 1024);
    Written written = new Written(new HashMap<>(), new ArrayList<>());
    long late = T + 5 * WINDOW;
    LogInboxStore store = open(config);
    try {
      sends(store, written, 0, 600, T, "old-");
      sends(store, written, 600, 3000, late, null);
      sends(store, written, 3600, 200, late, "new-");
      sends(store, written, 3800, 600, late, null);
    } finally {
      await(store::close);
    }
    List<Path> indexes = indexes();
    assertTrue(indexes.size() >= 15, "many sealed segments: " + indexes);
    Map<Path, SegmentIndex.Header> headers = new HashMap<>();
    for (Path index : indexes) {
      headers.put(index, header(index));
    }
    long restart = late + 5000;
    long keysNotBefore = restart - WINDOW;

    CountingLogFiles counting = new CountingLogFiles();
    LogInboxStore reopened = new LogInboxStore(vertx, config, counting, () -> restart);
    // The background check reads the segments after the start; held back, what is counted is the start's.
    Promise<Void> gate = Promise.promise();
    reopened.holdBackgroundCheck(gate.future());
    await(reopened::open);
    try {
      assertEquals(indexes.size(), reopened.openedByIndex(), "every sealed segment taken from its index");
      long read = 0;
      long messagesSections = 0;
      int withKeys = 0;
      int withoutKeys = 0;
      for (Path index : indexes) {
        SegmentIndex.Header h = headers.get(index);
        boolean keys = h.keyCount() > 0 && h.times().newestKey() >= keysNotBefore;
        // Every header; the summary only of the oldest (the ledgers' chain starts there); heads, cursors and the
        // ledger only of the newest sealed segment; the keys only if they may be in the window.
        boolean newest = index.equals(indexes.get(indexes.size() - 1));
        boolean oldest = index.equals(indexes.get(0));
        long expected = SegmentIndex.HEADER + (oldest ? h.stateAt() : 0) + (keys ? h.pagesAt() - h.keysAt() : 0)
            + (newest ? h.keysAt() - h.stateAt() + h.messagesAt() - h.ledgerAt() : 0);
        assertEquals(expected, counting.bytesRead(index), index + " read at start");
        withKeys += keys ? 1 : 0;
        withoutKeys += !keys && h.keyCount() > 0 ? 1 : 0;
        read += counting.bytesRead(index);
        messagesSections += (long) h.messageCount() * SegmentIndex.MESSAGE_BYTES;
        assertEquals(0, counting.bytesRead(index.resolveSibling(index.getFileName().toString().replace(".idx", ".log"))),
            "no byte of a trusted sealed segment");
      }
      assertTrue(withKeys > 0 && withoutKeys > 0, "keys in and out of the window: " + withKeys + ", " + withoutKeys);
      assertTrue(headers.get(indexes.get(1)).stateBytes() > 8, "checkpoint heads left unread in older indexes");
      assertTrue(read < messagesSections / 10, read + " bytes of index read at start, messages sections " + messagesSections);

      checkReads(reopened, written, restart);
      for (AppendRequest retry : written.recentKeyed().subList(0, 20)) {
        assertTrue(await(() -> reopened.append(List.of(retry), List.of(), restart)).get(0).duplicate(),
            "a key inside the window, in a sealed segment, is found after the start: " + retry.idempotencyKey());
      }
    } finally {
      gate.complete();
      await(reopened::close);
    }
  }

  @Test
  @DisplayName("heads and cursors are read only from the newest sealed index, yet an inbox and a cursor last touched in the oldest segment keep their values after many rolls and a restart")
  void stateFromNewestSealedOnly() throws Exception {
    Written written = new Written(new HashMap<>(), new ArrayList<>());
    LogInboxStore store = open(config(600));
    List<StoredMessage> zoe = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        long seq = append(store, "zoe", "early-" + i, T + i);
        zoe.add(new StoredMessage("m-early-" + i, seq, "alice", "zoe", "early-" + i, T + i));
      }
      await(() -> store.append(List.of(), List.of(new dev.switchboard.bus.CursorUpdate("zoe", "phone", 2)), T + 3));
      for (int i = 0; i < 60; i++) {
        sendsOneByOne(store, written, i);
      }
    } finally {
      await(store::close);
    }
    List<Path> indexes = indexes();
    assertTrue(indexes.size() >= 8, "many sealed segments: " + indexes);
    assertFalse(new String(Files.readAllBytes(indexes.get(indexes.size() - 1)), java.nio.charset.StandardCharsets.UTF_8)
        .substring(0, SegmentIndex.HEADER + header(indexes.get(indexes.size() - 1)).summaryBytes()).contains("zoe"),
        "zoe has no message in the newest sealed segment: its summary does not name her");
    LogInboxStore reopened = open(config(600));
    try {
      assertEquals(indexes.size(), reopened.openedByIndex());
      assertEquals(2L, await(() -> reopened.cursor("zoe", "phone")));
      assertEquals(zoe, readAll(reopened, "zoe", T + 100));
      assertEquals(4L, append(reopened, "zoe", "later", T + 100), "zoe's head kept: seq 4 is next");
      checkReads(reopened, written, T + 100);
    } finally {
      await(reopened::close);
    }
  }

  /** Many commits over many tiny segments, with ids (all inside the window): what the damage tests start from. */
  private Written smallLog() throws Exception {
    Written written = new Written(new HashMap<>(), new ArrayList<>());
    LogInboxStore store = open(config(600));
    try {
      for (int i = 0; i < 60; i++) {
        sendsOneByOne(store, written, i);
      }
    } finally {
      await(store::close);
    }
    assertTrue(indexes().size() >= 8, "many sealed segments: " + indexes());
    return written;
  }

  private void sendsOneByOne(LogInboxStore store, Written written, int i) throws Exception {
    AppendRequest request = new AppendRequest("alice", "s" + i + "-" + "y".repeat(i % 6 * 8), T + i, "new-" + i,
        List.of(new AppendRequest.Recipient(USERS[i % USERS.length], "m" + i)));
    AppendResult result = await(() -> store.append(List.of(request), List.of(), T + i)).get(0);
    result.results().forEach(r -> written.messages().computeIfAbsent(r.to(), u -> new ArrayList<>())
        .add(new StoredMessage(r.msgId(), r.seq(), "alice", r.to(), request.body(), request.ts())));
    written.recentKeyed().add(request);
  }

  @Test
  @DisplayName("a flipped byte in a message page of a sealed segment's index: the start trusts the summary, the read through that page fails as damage and marks the segment, and the next start rebuilds the index from the segment with nothing lost")
  void damagedMessagePage() throws Exception {
    Written written = smallLog();
    int sealed = indexes().size();
    Path index = indexes().get(2);
    Path segment = index.resolveSibling(index.getFileName().toString().replace(".idx", ".log"));
    flipByte(index, header(index).messagesAt() + 3);
    LogInboxStore store = open(config(600));
    try {
      assertEquals(sealed, store.openedByIndex(), "the summary is whole: the start trusts every index");
      int failed = 0;
      for (String user : USERS) {
        try {
          assertEquals(written.messages().get(user), readAll(store, user, T + 100), user);
        } catch (DamagedEntryException e) {
          failed++;
          assertTrue(e.getMessage().contains("does not match the CRC-32C"), e.getMessage());
        }
      }
      assertTrue(failed > 0, "a read through the damaged page fails");
      assertEquals(List.of(segment.toString()), store.damagedSegments());
      assertTrue(Files.exists(SegmentDamage.markerFor(segment)), "marked for the next start");
    } finally {
      await(store::close);
    }
    LogInboxStore reopened = open(config(600));
    try {
      assertEquals(sealed - 1, reopened.openedByIndex(), "the marked segment is read record by record");
      assertFalse(Files.exists(SegmentDamage.markerFor(segment)), "the segment read whole: marker removed");
      checkReads(reopened, written, T + 100);
      assertEquals(List.of(), reopened.damagedSegments());
    } finally {
      await(reopened::close);
    }
    LogInboxStore again = open(config(600));
    try {
      assertEquals(sealed, again.openedByIndex(), "the rebuilt index is trusted");
      checkReads(again, written, T + 100);
    } finally {
      await(again::close);
    }
  }

  @Test
  @DisplayName("the background check after a start reads each trusted index's messages section too, and finds a damaged page before any read does")
  void backgroundCheckFindsDamagedPage() throws Exception {
    smallLog();
    int sealed = indexes().size();
    Path index = indexes().get(4);
    Path segment = index.resolveSibling(index.getFileName().toString().replace(".idx", ".log"));
    flipByte(index, header(index).messagesAt() + 17);
    LogInboxStore store = open(config(600));
    try {
      assertEquals(sealed, store.openedByIndex());
      store.backgroundCheck().get(20, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(sealed - 1, store.segmentsVerified());
      assertEquals(List.of(segment.toString()), store.damagedSegments());
      assertTrue(Files.exists(SegmentDamage.markerFor(segment)), "marked for the next start");
    } finally {
      await(store::close);
    }
  }

  @Test
  @DisplayName("a flipped byte in an index's header, summary, keys or (in the newest sealed one) heads makes the start read that segment's records instead: nothing is lost, heads and keys still answer, and the index is written again")
  void damagedSummary() throws Exception {
    Written written = smallLog();
    int sealed = indexes().size();
    List<Path> indexes = indexes();
    Path newest = indexes.get(indexes.size() - 1);
    SegmentIndex.Header hn = header(newest);
    assertTrue(hn.stateBytes() > 8, "heads in " + newest);
    flipByte(newest, hn.stateAt() + 6);
    SegmentIndex.Header h1 = header(indexes.get(1));
    flipByte(indexes.get(1), 30);
    flipByte(indexes.get(3), SegmentIndex.HEADER + header(indexes.get(3)).summaryBytes() / 2);
    SegmentIndex.Header h5 = header(indexes.get(5));
    assertTrue(h5.keyCount() > 0, "keys in " + indexes.get(5));
    flipByte(indexes.get(5), h5.keysAt() + 5);
    assertTrue(h1.messageCount() > 0);
    LogInboxStore store = open(config(600));
    try {
      assertEquals(sealed - 4, store.openedByIndex(), "the four damaged indexes are not used");
      checkReads(store, written, T + 100);
      for (String user : USERS) {
        List<StoredMessage> mine = written.messages().get(user);
        long next = mine.get(mine.size() - 1).seq() + 1;
        assertEquals(next, append(store, user, "after", T + 150), user + ": no seq handed out twice");
        mine.add(new StoredMessage("m-after", next, "alice", user, "after", T + 150));
      }
      for (AppendRequest retry : written.recentKeyed()) {
        assertTrue(await(() -> store.append(List.of(retry), List.of(), T + 200)).get(0).duplicate(),
            "key " + retry.idempotencyKey() + " still answers");
      }
    } finally {
      await(store::close);
    }
    LogInboxStore again = open(config(600));
    try {
      assertEquals(indexes().size(), again.openedByIndex(), "the rewritten indexes are used");
      checkReads(again, written, T + 100);
    } finally {
      await(again::close);
    }
  }

  @Test
  @DisplayName("a log whose indexes are of version 3 (written by an older build) opens: each segment is read and indexed again in the current version, nothing is lost, and the next start uses the new indexes")
  void upgradesVersionThree() throws Exception {
    Path log = dataDir.resolve("log");
    Files.createDirectories(log);
    int v3 = 0;
    for (String name : fixture()) {
      try (InputStream in = getClass().getResourceAsStream("/storage/log-v3/" + name)) {
        Files.copy(in, log.resolve(name));
      }
      if (name.endsWith(SegmentIndex.SUFFIX)) {
        assertEquals(3, ByteBuffer.wrap(Files.readAllBytes(log.resolve(name))).getInt(4), name);
        v3++;
      }
    }
    assertTrue(v3 >= 5, "a fixture with several v3 indexes");
    // What the previous build wrote: 40 sends, one a commit, to bob, carol and dave in turn.
    Map<String, List<String>> bodies = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      bodies.computeIfAbsent(new String[] {"bob", "carol", "dave"}[i % 3], u -> new ArrayList<>())
          .add("v3-" + i + "-" + "x".repeat(i % 5 * 9));
    }
    LogInboxStore store = open(config(600));
    try {
      assertEquals(0, store.openedByIndex(), "no index of version 3 is used");
      for (Map.Entry<String, List<String>> e : bodies.entrySet()) {
        List<StoredMessage> read = readAll(store, e.getKey(), 10_100);
        assertEquals(e.getValue(), bodies(read), e.getKey());
        assertEquals(e.getValue().size(), read.get(read.size() - 1).seq(), e.getKey() + ": seqs 1..n");
      }
    } finally {
      await(store::close);
    }
    for (Path index : indexes()) {
      assertEquals(SegmentIndex.VERSION, ByteBuffer.wrap(Files.readAllBytes(index)).getInt(4), index.toString());
    }
    LogInboxStore again = open(config(600));
    try {
      assertEquals(v3, again.openedByIndex(), "the rebuilt indexes are used");
      for (Map.Entry<String, List<String>> e : bodies.entrySet()) {
        assertEquals(e.getValue(), bodies(readAll(again, e.getKey(), 10_100)), e.getKey());
      }
    } finally {
      await(again::close);
    }
  }

  /** The fixture's file names: every segment and index the previous build left in its log directory. */
  private static List<String> fixture() {
    List<String> names = new ArrayList<>();
    for (long base : new long[] {0, 677, 1295, 1926, 2601, 3214}) {
      names.add(String.format("%020d.log", base));
      names.add(String.format("%020d.idx", base));
    }
    names.add(String.format("%020d.log", 3836L));
    return names;
  }

  @Test
  @DisplayName("a read of a sealed segment whose index file was cut short fails instead of answering fewer messages")
  void truncatedIndexFailsRead() throws Exception {
    Written written = smallLog();
    assertFalse(written.messages().isEmpty());
    Path index = indexes().get(0);
    LogInboxStore store = open(config(600));
    try {
      int sealed = indexes().size();
      assertEquals(sealed, store.openedByIndex());
      try (var ch = java.nio.channels.FileChannel.open(index, java.nio.file.StandardOpenOption.WRITE)) {
        ch.truncate(header(index).messagesAt() + 10);
      }
      assertThrows(IOException.class, () -> {
        for (String user : USERS) {
          readAll(store, user, T + 100);
        }
      });
    } finally {
      await(store::close);
    }
  }
}
