package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The index files of sealed segments: a start takes each sealed segment from its index when the
 * index is whole and matches the segment, and otherwise reads the segment and writes the index
 * again; either way every message, head, cursor and idempotency key is what it was.
 */
class SegmentIndexTest extends LogTestSupport {

  private static final long SEGMENT = 600;
  private static final long T = 10_000;
  private static final String[] USERS = {"bob", "carol", "dave", "élodie"};

  /** What a log was given: every message by user, and the cursors. */
  private record Written(Map<String, List<StoredMessage>> messages, Map<String, Long> cursors, AppendRequest keyed) {
  }

  /** Many commits over many tiny segments: messages to several users, a fan-out, keys and cursor moves. */
  private Written fill(LogInboxStore store, String bodyPrefix) throws Exception {
    Map<String, List<StoredMessage>> messages = new HashMap<>();
    Map<String, Long> cursors = new HashMap<>();
    AppendRequest keyed = null;
    for (int i = 0; i < 80; i++) {
      List<AppendRequest.Recipient> to = new ArrayList<>();
      String[] users = i % 7 == 0 ? USERS : new String[] {USERS[i % USERS.length]};
      for (String user : users) {
        to.add(new AppendRequest.Recipient(user, "m" + i + "-" + user));
      }
      AppendRequest request = new AppendRequest("alice", bodyPrefix + i + "x".repeat(i % 9 * 11), T + i,
          "key" + i, to);
      keyed = i == 3 ? request : keyed;
      List<CursorUpdate> moves = new ArrayList<>();
      if (i % 10 == 9) {
        long seq = messages.get("bob").get(messages.get("bob").size() - 1).seq();
        moves.add(new CursorUpdate("bob", "phone", seq));
        cursors.put("bob/phone", seq);
      }
      long now = T + i;
      AppendResult result = await(() -> store.append(List.of(request), moves, now)).get(0);
      result.results().forEach(r -> messages.computeIfAbsent(r.to(), u -> new ArrayList<>())
          .add(new StoredMessage(r.msgId(), r.seq(), "alice", r.to(), request.body(), request.ts())));
    }
    return new Written(messages, cursors, keyed);
  }

  /** Every message reads back in order, cursors are kept, a retried key is a duplicate, the next seq follows. */
  private void check(LogInboxStore store, Written written) throws Exception {
    for (String user : USERS) {
      assertEquals(written.messages().get(user), readAll(store, user, T + 100), user);
    }
    assertEquals(written.cursors().get("bob/phone"), await(() -> store.cursor("bob", "phone")));
    AppendRequest retry = written.keyed();
    assertTrue(await(() -> store.append(List.of(retry), List.of(), T + 200)).get(0).duplicate(),
        "a key stored in a sealed segment is found through the index");
    List<StoredMessage> carol = written.messages().get("carol");
    long next = carol.get(carol.size() - 1).seq() + 1;
    assertEquals(next, append(store, "carol", "next", T + 200));
    carol.add(new StoredMessage("m-next", next, "alice", "carol", "next", T + 200));
  }

  private List<Path> indexes() throws IOException {
    try (Stream<Path> files = Files.list(dataDir.resolve("log"))) {
      return files.filter(p -> p.getFileName().toString().endsWith(SegmentIndex.SUFFIX)).sorted().toList();
    }
  }

  private InboxConfig config() {
    return config(SEGMENT);
  }

  /** Fills a log, closes it, and returns what was written; every sealed segment has its index. */
  private Written filledLog() throws Exception {
    LogInboxStore store = open(config());
    Written written = fill(store, "body ");
    await(store::close);
    assertTrue(segments().size() >= 10, "many segments: " + segments());
    assertEquals(segments().size() - 1, indexes().size(), "every sealed segment has an index: " + indexes());
    return written;
  }

  /** Opens the log, checks it, and returns how many segments were taken from their index. */
  private int reopenAndCheck(Written written) throws Exception {
    LogInboxStore store = open(config());
    try {
      check(store, written);
      return store.openedByIndex();
    } finally {
      await(store::close);
    }
  }

  @Test
  @DisplayName("after many rolls a restart takes every sealed segment from its index, and reads, cursors and keys are all there")
  void restartThroughIndexes() throws Exception {
    Written written = filledLog();
    int sealed = segments().size() - 1;
    assertEquals(sealed, reopenAndCheck(written));
  }

  @Test
  @DisplayName("a roll writes the sealed segment's index from what the store holds: not a byte of the log is read back")
  void rollReadsNothing() throws Exception {
    FaultyLogFiles files = new FaultyLogFiles().failAt(Long.MAX_VALUE, EnumSet.of(FaultyLogFiles.Op.READ), "unused");
    LogInboxStore store = open(config(), files);
    try {
      Written written = fill(store, "body ");
      await(store::indexesWritten);
      assertTrue(segments().size() >= 10, "many segments: " + segments());
      assertEquals(segments().size() - 1, indexes().size(), "every sealed segment has an index: " + indexes());
      assertEquals(0, files.calls(), "file reads while appending and indexing");
      check(store, written);
    } finally {
      await(store::close);
    }
  }

  @Test
  @DisplayName("the index written at a roll is byte for byte the one a start rebuilds from the segment file")
  void indexFromHeapMatchesIndexFromSegment() throws Exception {
    Written written = filledLog();
    Map<Path, byte[]> atRoll = new HashMap<>();
    for (Path index : indexes()) {
      atRoll.put(index, Files.readAllBytes(index));
      Files.delete(index);
    }
    assertEquals(0, reopenAndCheck(written));
    assertTrue(Set.copyOf(indexes()).containsAll(atRoll.keySet()), "every index is rebuilt: " + indexes());
    for (Map.Entry<Path, byte[]> e : atRoll.entrySet()) {
      assertArrayEquals(e.getValue(), Files.readAllBytes(e.getKey()), e.getKey() + " rebuilt from its segment");
    }
  }

  @Test
  @DisplayName("with inbox.verifyInBackground=false, damage in a sealed segment whose index is whole stops the start, naming the file and the offset")
  void damagedSegmentWithIndex() throws Exception {
    filledLog();
    Path segment = segments().get(2);
    assertTrue(Files.exists(SegmentIndex.fileFor(segment)));
    long record = recordOffsets(segment).get(1);
    flipByte(segment, record + LogSegments.RECORD_HEADER + 6);
    // With the default the start trusts the index and the damage is found after it (SegmentCheckTest).
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
        () -> open(config(dataDir, SEGMENT, false, false)));
    assertTrue(e.getMessage().contains(segment.getFileName().toString()) && e.getMessage().contains("offset " + record),
        e.getMessage());
  }

  @Test
  @DisplayName("an index with a flipped byte is not used: its segment is read, nothing is lost, and the index is written again")
  void flippedByteInIndex() throws Exception {
    Written written = filledLog();
    int sealed = segments().size() - 1;
    Path damaged = indexes().get(2);
    flipByte(damaged, Files.size(damaged) / 2);
    assertEquals(sealed - 1, reopenAndCheck(written));
    assertEquals(segments().size() - 1, reopenAndCheck(written), "the rebuilt index is used");
  }

  @Test
  @DisplayName("a deleted index (or a log written before indexes existed) is rebuilt from its segment at start")
  void deletedIndex() throws Exception {
    Written written = filledLog();
    int sealed = segments().size() - 1;
    Files.delete(indexes().get(0));
    Files.delete(indexes().get(3));
    assertEquals(sealed - 2, reopenAndCheck(written));
    for (Path index : indexes()) {
      Files.delete(index);
    }
    assertEquals(0, reopenAndCheck(written));
    assertEquals(segments().size() - 1, reopenAndCheck(written), "every index is back");
  }

  @Test
  @DisplayName("an index made from other segment content, or of another segment, is stale: not used, and rebuilt")
  void staleIndex() throws Exception {
    // The same commits with other bodies: its first segments start at the same positions with other bytes.
    Path other = dataDir.resolve("other");
    LogInboxStore store = open(config(other, SEGMENT, false));
    fill(store, "other ");
    await(store::close);
    Written written = filledLog();
    int sealed = segments().size() - 1;
    List<Path> indexes = indexes();
    Path first = indexes.get(0);
    Files.copy(other.resolve("log").resolve(first.getFileName()), first, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(indexes.get(1), indexes.get(2), StandardCopyOption.REPLACE_EXISTING);
    assertEquals(sealed - 2, reopenAndCheck(written));
    assertEquals(segments().size() - 1, reopenAndCheck(written));
  }

  @Test
  @DisplayName("a crash between a segment roll and its index write (no index ever written) loses nothing: the start reads the segments and indexes them")
  void noIndexWritten() throws Exception {
    LogInboxStore store = open(config(), new NoIndexWrites());
    Written written = fill(store, "body ");
    await(store::close);
    assertTrue(segments().size() >= 10, "many segments: " + segments());
    assertEquals(List.of(), indexes());
    assertEquals(0, reopenAndCheck(written));
    assertEquals(segments().size() - 1, indexes().size());
  }

  @Test
  @DisplayName("an index left without its segment and a half-written index are deleted at start; the newest segment is never taken from an index")
  void strayIndexFiles() throws Exception {
    Written written = filledLog();
    Path log = dataDir.resolve("log");
    Files.write(log.resolve(String.format("%020d", 99_999_999L) + SegmentIndex.SUFFIX), new byte[] {1, 2, 3});
    Files.write(log.resolve(String.format("%020d", 5L) + SegmentIndex.SUFFIX + LogSegments.TEMP_SUFFIX), new byte[] {4});
    // An index of the newest segment, as if the segment after it had been lost: it is appended to, so not used.
    Path newest = segments().get(segments().size() - 1);
    Files.copy(indexes().get(0), SegmentIndex.fileFor(newest));
    assertEquals(segments().size() - 1, reopenAndCheck(written));
    try (Stream<Path> files = Files.list(log)) {
      List<String> names = files.map(p -> p.getFileName().toString()).toList();
      assertFalse(names.stream().anyMatch(n -> n.startsWith("00000000000099999999") || n.endsWith(".tmp")), names.toString());
    }
  }

  /** The real files, except that an index file is never created: as if the process stopped before each one. */
  private static final class NoIndexWrites extends ForwardingLogFiles {
    @Override
    public Channel create(Path file) throws IOException {
      if (file.getFileName().toString().endsWith(SegmentIndex.SUFFIX + LogSegments.TEMP_SUFFIX)) {
        throw new IOException("the process stopped before writing " + file);
      }
      return super.create(file);
    }
  }

  @Test
  @DisplayName("an index's messages are sorted by user hash and seq, so one user's run is found by a binary search")
  void sortedByUserAndSeq() throws Exception {
    filledLog();
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(indexes().get(1)));
    List<long[]> seen = new ArrayList<>();
    assertTrue(bytes.getInt(0) == SegmentIndex.MAGIC, "an index file");
    // The header tells where the messages section starts and its count of entries, each led by hash and seq.
    SegmentIndex.Header header = SegmentIndex.Header.of(bytes, new String[1]);
    int at = (int) header.messagesAt();
    for (int i = 0; i < header.messageCount(); i++) {
      int entry = at + i * SegmentIndex.MESSAGE_BYTES;
      seen.add(new long[] {bytes.getLong(entry), bytes.getLong(entry + 8)});
    }
    assertFalse(seen.isEmpty());
    for (int i = 1; i < seen.size(); i++) {
      long[] a = seen.get(i - 1);
      long[] b = seen.get(i);
      assertTrue(a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]), "sorted by (hash, seq) at " + i);
    }
  }
}
