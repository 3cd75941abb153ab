package dev.switchboard.storage;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import io.vertx.core.Promise;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A start that trusts whole indexes without reading their segments, and what checks the segments
 * then: the background check against each index's CRC-32C, and each read against the message's own
 * CRC-32C in the index; damage found either way is marked, and the next start reads that segment
 * whole and refuses it as it refuses damage found at start.
 */
class SegmentCheckTest extends LogTestSupport {

  private static final long SEGMENT = 600;
  private static final long T = 10_000;
  private static final String[] USERS = {"bob", "carol", "dave"};

  private InboxConfig config() {
    return config(SEGMENT);
  }

  /** Many commits over many tiny segments; every fifth a send to all three users sharing one stored body. */
  private Map<String, List<StoredMessage>> filledLog() throws Exception {
    LogInboxStore store = open(config());
    Map<String, List<StoredMessage>> written = new HashMap<>();
    for (int i = 0; i < 60; i++) {
      List<AppendRequest.Recipient> to = new ArrayList<>();
      String[] users = i % 5 == 0 ? USERS : new String[] {USERS[i % USERS.length]};
      for (String user : users) {
        to.add(new AppendRequest.Recipient(user, "m" + i + "-" + user));
      }
      String body = (i % 5 == 0 ? "shared-" : "body-") + i + "-" + "x".repeat(i % 7 * 9);
      AppendRequest request = new AppendRequest("alice", body, T + i, null, to);
      long now = T + i;
      AppendResult result = await(() -> store.append(List.of(request), List.of(), now)).get(0);
      result.results().forEach(r -> written.computeIfAbsent(r.to(), u -> new ArrayList<>())
          .add(new StoredMessage(r.msgId(), r.seq(), "alice", r.to(), body, request.ts())));
    }
    await(store::close);
    assertTrue(segments().size() >= 8, "many segments: " + segments());
    for (Path sealed : sealed()) {
      assertTrue(Files.exists(SegmentIndex.fileFor(sealed)), "indexed: " + sealed);
    }
    return written;
  }

  private List<Path> sealed() throws IOException {
    List<Path> all = segments();
    return all.subList(0, all.size() - 1);
  }

  private void checkReads(LogInboxStore store, Map<String, List<StoredMessage>> written) throws Exception {
    for (String user : USERS) {
      assertEquals(written.get(user), readAll(store, user, T + 100), user);
    }
  }

  private static void awaitCheck(LogInboxStore store) throws Exception {
    store.backgroundCheck().get(20, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("room copies sharing one body read back whole through their segments' indexes, while running and after a trusted start, and the background check finds nothing damaged")
  void roomCopiesReadThroughIndexes() throws Exception {
    LogInboxStore store = open(config());
    Map<String, List<StoredMessage>> written = new HashMap<>();
    try {
      await(() -> store.changeRoom(new RoomChange(RoomChange.Op.CREATE, "r", null, "alice", false, "c", T), T));
      for (String member : new String[] {"bob", "carol"}) {
        await(() -> store.changeRoom(new RoomChange(RoomChange.Op.ADD, "r", member, "alice", false, "a-" + member, T), T));
      }
      for (int i = 0; i < 40; i++) {
        String body = "room-" + i + "-" + "y".repeat(i % 7 * 9);
        long now = T + i;
        AppendResult result = await(() -> store.append(List.of(AppendRequest.toRoom("alice", "r", "rm" + now, body, now,
            null, false)), List.of(), now)).get(0);
        result.results().forEach(r -> written.computeIfAbsent(r.to(), u -> new ArrayList<>())
            .add(new StoredMessage(r.msgId(), r.seq(), "alice", r.to(), body, now, "r", result.roomSeq(), null)));
      }
      assertTrue(sealed().size() >= 4, "many segments: " + segments());
      checkRoomReads(store, written);
      assertEquals(List.of(), store.damagedSegments());
    } finally {
      await(store::close);
    }
    LogInboxStore reopened = open(config());
    try {
      assertEquals(sealed().size(), reopened.openedByIndex(), "the start trusts every index");
      checkRoomReads(reopened, written);
      awaitCheck(reopened);
      assertEquals(List.of(), reopened.damagedSegments());
    } finally {
      await(reopened::close);
    }
  }

  /** Each member's room messages, read back in order and whole (room events left out). */
  private void checkRoomReads(LogInboxStore store, Map<String, List<StoredMessage>> written) throws Exception {
    for (Map.Entry<String, List<StoredMessage>> member : written.entrySet()) {
      List<StoredMessage> read = readAll(store, member.getKey(), T + 100).stream().filter(m -> m.event() == null).toList();
      assertEquals(member.getValue(), read, member.getKey());
    }
  }

  @Test
  @DisplayName("a start takes every sealed segment from its index without reading a byte of it; the background check then reads each once and finds them whole")
  void startReadsNoSealedSegmentByte() throws Exception {
    Map<String, List<StoredMessage>> written = filledLog();
    List<Path> sealed = sealed();
    CountingLogFiles counting = new CountingLogFiles();
    LogInboxStore store = new LogInboxStore(vertx, config(), counting, TEST_CLOCK);
    Promise<Void> gate = Promise.promise();
    store.holdBackgroundCheck(gate.future());
    await(store::open);
    try {
      assertEquals(sealed.size(), store.openedByIndex());
      for (Path segment : sealed) {
        assertEquals(0, counting.bytesRead(segment), segment + " was read at start");
      }
      assertEquals(sealed.size(), store.segmentsUnverified());
      assertEquals(0, store.segmentsVerified());
      gate.complete();
      awaitCheck(store);
      assertEquals(sealed.size(), store.segmentsVerified());
      assertEquals(0, store.segmentsUnverified());
      assertEquals(List.of(), store.damagedSegments());
      for (Path segment : sealed) {
        assertEquals(Files.size(segment), counting.bytesRead(segment), segment + " read once, whole, by the check");
      }
      checkReads(store, written);
    } finally {
      await(store::close);
    }
  }

  @Test
  @DisplayName("a flipped byte in a sealed segment's record is found by the background check: one ERROR, a marker, the node keeps accepting, and the next start refuses naming the file and offset")
  void backgroundCheckFindsDamage() throws Exception {
    Map<String, List<StoredMessage>> written = filledLog();
    int sealed = sealed().size();
    Path segment = segments().get(2);
    long record = recordOffsets(segment).get(1);
    flipByte(segment, record + LogSegments.RECORD_HEADER + 6);
    List<StoredMessage> bob = written.get("bob");
    long bobHead = bob.get(bob.size() - 1).seq();
    ch.qos.logback.classic.Logger checkLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(SegmentCheck.class);
    Level level = checkLog.getLevel();
    checkLog.setLevel(Level.INFO);
    List<ILoggingEvent> events;
    try {
      events = logged(() -> {
        LogInboxStore store = open(config());
        try {
          assertEquals(sealed, store.openedByIndex(), "the start trusts the whole index");
          awaitCheck(store);
          assertEquals(List.of(segment.toString()), store.damagedSegments());
          assertEquals(sealed - 1, store.segmentsVerified());
          assertTrue(Files.exists(SegmentDamage.markerFor(segment)), "marker written");
          assertEquals(bobHead + 1, append(store, "bob", "after the damage", T + 200), "still accepting");
          List<StoredMessage> after = await(() -> store.read("bob", bobHead, 10, T + 200)).messages();
          assertEquals(List.of("after the damage"), bodies(after));
        } finally {
          await(store::close);
        }
      });
    } finally {
      checkLog.setLevel(level);
    }
    List<ILoggingEvent> errors = events.stream().filter(e -> e.getLevel() == Level.ERROR).toList();
    assertEquals(1, errors.size(), "one ERROR: " + errors);
    String error = errors.get(0).getFormattedMessage();
    assertTrue(error.contains(segment.toString()) && error.contains("does not match its index")
        && error.contains("docs/storage.md") && error.contains("inbox.logRepair=true"), error);
    assertTrue(events.stream().anyMatch(e -> e.getLevel() == Level.INFO
        && e.getFormattedMessage().contains("background check done")), "an INFO line when done");
    Exception e = assertThrows(Exception.class, () -> open(config()));
    assertTrue(e.getMessage().contains(segment.getFileName().toString()) && e.getMessage().contains("offset " + record),
        e.getMessage());
  }

  @Test
  @DisplayName("a flipped byte in a message body of a sealed segment fails the read before the background check reached it, for every copy sharing that body, and marks the segment")
  void readRefusesDamagedBody() throws Exception {
    Map<String, List<StoredMessage>> written = filledLog();
    String body = written.get("bob").stream().map(StoredMessage::body).filter(b -> b.startsWith("shared-5-"))
        .findFirst().orElseThrow();
    Path segment = null;
    long at = -1;
    for (Path candidate : sealed()) {
      at = indexOf(Files.readAllBytes(candidate), body.getBytes(StandardCharsets.UTF_8));
      if (at >= 0) {
        segment = candidate;
        break;
      }
    }
    assertTrue(segment != null, "the shared body is in a sealed segment");
    flipByte(segment, at + 3);
    LogInboxStore store = new LogInboxStore(vertx, config(), SystemLogFiles.INSTANCE, TEST_CLOCK);
    store.holdBackgroundCheck(Promise.<Void>promise().future());
    await(store::open);
    try {
      for (String user : USERS) {
        Throwable failed = failure(() -> store.read(user, 0, 1000, T + 100));
        assertTrue(failed instanceof DamagedEntryException && failed.getMessage().contains("does not match"),
            user + ": " + failed);
      }
      assertEquals(0, store.segmentsVerified(), "the background check never ran");
      assertEquals(List.of(segment.toString()), store.damagedSegments());
      assertTrue(Files.exists(SegmentDamage.markerFor(segment)));
      // Past the damaged message the inbox reads on.
      long damagedSeq = written.get("carol").stream().filter(m -> m.body().equals(body)).findFirst().orElseThrow().seq();
      List<StoredMessage> carol = written.get("carol");
      List<StoredMessage> rest = carol.subList(carol.indexOf(carol.stream().filter(m -> m.seq() == damagedSeq)
          .findFirst().orElseThrow()) + 1, carol.size());
      assertEquals(rest, await(() -> store.read("carol", damagedSeq, 1000, T + 100)).messages());
    } finally {
      await(store::close);
    }
    Path damaged = segment;
    Exception e = assertThrows(Exception.class, () -> open(config()));
    assertTrue(e.getMessage().contains(damaged.getFileName().toString()) && e.getMessage().contains("is damaged at offset"),
        e.getMessage());
  }

  @Test
  @DisplayName("an index of an older version is not used: its segment is read and the index written again in this version")
  void olderIndexRebuilt() throws Exception {
    Map<String, List<StoredMessage>> written = filledLog();
    int sealed = sealed().size();
    for (Path segment : sealed()) {
      Path index = SegmentIndex.fileFor(segment);
      ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(index));
      bytes.putInt(4, SegmentIndex.VERSION - 1);
      CRC32C crc = new CRC32C();
      crc.update(bytes.array(), 0, bytes.limit() - 4);
      bytes.putInt(bytes.limit() - 4, (int) crc.getValue());
      Files.write(index, bytes.array());
    }
    LogInboxStore store = open(config());
    try {
      assertEquals(0, store.openedByIndex(), "no index of the older version used");
      checkReads(store, written);
    } finally {
      await(store::close);
    }
    for (Path segment : sealed()) {
      assertEquals(SegmentIndex.VERSION, ByteBuffer.wrap(Files.readAllBytes(SegmentIndex.fileFor(segment))).getInt(4));
    }
    LogInboxStore again = open(config());
    try {
      assertEquals(sealed, again.openedByIndex(), "the rewritten indexes are used");
      awaitCheck(again);
      assertEquals(sealed, again.segmentsVerified());
      checkReads(again, written);
    } finally {
      await(again::close);
    }
  }

  @Test
  @DisplayName("a segment marked damaged but whole (restored from a backup) is read at start, indexed, and its marker removed")
  void markerOnWholeSegment() throws Exception {
    Map<String, List<StoredMessage>> written = filledLog();
    int sealed = sealed().size();
    Path segment = segments().get(1);
    Files.writeString(SegmentDamage.markerFor(segment), "found damaged\n");
    LogInboxStore store = open(config());
    try {
      assertEquals(sealed - 1, store.openedByIndex());
      assertFalse(Files.exists(SegmentDamage.markerFor(segment)));
      checkReads(store, written);
    } finally {
      await(store::close);
    }
    LogInboxStore again = open(config());
    try {
      assertEquals(sealed, again.openedByIndex());
    } finally {
      await(again::close);
    }
  }

  @Test
  @DisplayName("with inbox.verifyInBackground=false the start reads every sealed segment whole and nothing is left to check")
  void checkAtStart() throws Exception {
    Map<String, List<StoredMessage>> written = filledLog();
    CountingLogFiles counting = new CountingLogFiles();
    LogInboxStore store = open(config(dataDir, SEGMENT, false, false), counting);
    try {
      for (Path segment : sealed()) {
        assertTrue(counting.bytesRead(segment) >= Files.size(segment), segment + " read whole at start");
      }
      assertEquals(0, store.segmentsUnverified());
      awaitCheck(store);
      assertEquals(0, store.segmentsVerified());
      checkReads(store, written);
    } finally {
      await(store::close);
    }
  }

  private static long indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
