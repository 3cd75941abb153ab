package dev.switchboard.storage;

import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log engine under the faults a disk produces: failed writes and syncs, failed segment rolls,
 * damaged, missing and overlapping segment files. Each test names the invariant it guards: a seq is
 * never handed out twice, nothing accepted is lost, damage is never skipped silently.
 */
class LogFaultTest extends LogTestSupport {

  @Test
  @DisplayName("a flipped byte in the middle of the newest segment stops the start, naming the file and offset, instead of cutting the log and reusing seqs")
  void flippedByteInNewestSegmentRefused() throws Exception {
    InboxConfig config = config(64L << 20);
    LogInboxStore store = open(config);
    for (int i = 1; i <= 60; i++) {
      append(store, "bob", "message " + i, 10);
    }
    await(() -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 60)), 10));
    await(store::close);
    Path newest = segments().get(segments().size() - 1);
    long size = Files.size(newest);
    flipByte(newest, size / 3);

    Throwable e = failure(() -> new LogInboxStore(vertx, config, SystemLogFiles.INSTANCE).open());
    assertTrue(e.getMessage().contains(newest.getFileName().toString()), e.getMessage());
    assertTrue(e.getMessage().contains("offset"), e.getMessage());
    assertTrue(e.getMessage().contains("inbox.logRepair"), "says what to do: " + e.getMessage());
    assertEquals(size, Files.size(newest), "nothing cut off");
  }

  @Test
  @DisplayName("repair (inbox.logRepair) moves damaged bytes to quarantine, keeps every valid record, and moves heads past every seq the log held")
  void repairKeepsTheRest() throws Exception {
    LogInboxStore store = open(config(64L << 20));
    for (int i = 1; i <= 60; i++) {
      append(store, "bob", "message " + i, 10);
    }
    append(store, "carol", "only", 10);
    await(() -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 60)), 10));
    await(store::close);
    Path newest = segments().get(segments().size() - 1);
    flipByte(newest, Files.size(newest) / 3);
    failure(() -> new LogInboxStore(vertx, config(64L << 20), SystemLogFiles.INSTANCE).open());

    LogInboxStore repaired = open(config(64L << 20, true));
    List<StoredMessage> bob = readAll(repaired, "bob", 20);
    assertEquals(59, bob.size(), "one commit (one message) lost: " + bodies(bob));
    for (StoredMessage m : bob) {
      assertEquals("message " + m.seq(), m.body(), "every kept message under its own seq");
    }
    InboxPage page = await(() -> repaired.read("bob", 0, 1000, 20));
    assertTrue(page.head() >= 60, "head " + page.head());
    assertTrue(append(repaired, "bob", "after repair", 20) > 60, "no seq handed out twice");
    assertTrue(append(repaired, "carol", "after repair", 20) > 1, "no seq handed out twice");
    assertEquals(60L, await(() -> repaired.cursor("bob", "phone")));
    await(repaired::close);
    try (Stream<Path> quarantined = Files.list(dataDir.resolve("log").resolve(LogSegments.QUARANTINE))) {
      assertEquals(1, quarantined.count());
    }

    // The repaired log opens without repair, the same.
    LogInboxStore reopened = open(config(64L << 20));
    List<StoredMessage> again = readAll(reopened, "bob", 20);
    assertEquals(60, again.size());
    assertEquals("after repair", again.get(59).body());
    await(reopened::close);
  }

  @Test
  @DisplayName("a torn tail is cut off with a WARN naming the file, the offset and the length")
  void tornTailIsLogged() throws Exception {
    InboxConfig config = config(64L << 20);
    LogInboxStore store = open(config);
    append(store, "bob", "kept", 10);
    await(store::close);
    Path newest = segments().get(segments().size() - 1);
    long end = Files.size(newest);
    try (FileChannel ch = FileChannel.open(newest, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ch.write(ByteBuffer.allocate(30).putInt(500).putInt(42).position(30).flip());
    }
    var events = logged(() -> await(open(config)::close));
    String warning = events.stream().filter(ev -> ev.getLevel() == ch.qos.logback.classic.Level.WARN)
        .map(ev -> ev.getFormattedMessage()).filter(m -> m.contains("torn")).findFirst().orElseThrow();
    assertTrue(warning.contains(newest.toString()) && warning.contains("offset " + end) && warning.contains("30 bytes"),
        warning);
    assertEquals(end, Files.size(newest));
  }

  @Test
  @DisplayName("a repair stopped midway (its quarantine copy already written) runs again and keeps both copies")
  void repairRunsAgain() throws Exception {
    LogInboxStore store = open(config(64L << 20));
    for (int i = 1; i <= 10; i++) {
      append(store, "bob", "message " + i, 10);
    }
    await(store::close);
    Path newest = segments().get(segments().size() - 1);
    List<Long> records = recordOffsets(newest);
    long damaged = records.get(3);
    flipByte(newest, (damaged + records.get(4)) / 2);
    Path quarantine = dataDir.resolve("log").resolve(LogSegments.QUARANTINE);
    Files.createDirectories(quarantine);
    Files.write(quarantine.resolve(newest.getFileName() + "." + damaged + ".damaged"), new byte[] {1});

    await(open(config(64L << 20, true))::close);
    try (Stream<Path> copies = Files.list(quarantine)) {
      assertEquals(2, copies.count());
    }
    LogInboxStore reopened = open(config(64L << 20));
    assertEquals(9, readAll(reopened, "bob", 20).size());
    await(reopened::close);
  }

  @Test
  @DisplayName("after a failed sync the store takes no more writes (reads go on) until restarted, and no seq is handed out twice")
  void failedSyncStopsWrites() throws Exception {
    InboxConfig config = config(64L << 20);
    FaultyLogFiles files = new FaultyLogFiles();
    LogInboxStore store = open(config, files);
    assertEquals(1, append(store, "bob", "first", 10));
    files.failAt(1, EnumSet.of(FaultyLogFiles.Op.FORCE), "Input/output error");
    var events = logged(() -> {
      failure(() -> store.append(List.of(send("bob", "unsure", 11)), List.of(), 11));
      Throwable e = failure(() -> store.append(List.of(send("bob", "later", 12)), List.of(), 12));
      assertTrue(e instanceof WritesStoppedException, e.toString());
      assertEquals(List.of("first"), bodies(readAll(store, "bob", 12)));
    });
    var errors = events.stream().filter(ev -> ev.getLevel() == ch.qos.logback.classic.Level.ERROR).toList();
    assertEquals(1, errors.size(), "one ERROR: " + errors);
    assertTrue(errors.get(0).getFormattedMessage().contains("restart"), errors.get(0).getFormattedMessage());
    await(store::close);

    LogInboxStore reopened = open(config);
    List<StoredMessage> stored = readAll(reopened, "bob", 20);
    // The record whose sync failed may or may not be there (its sender was told it failed), but
    // nothing was written after it, and the next seq follows everything in the log.
    assertEquals("first", stored.get(0).body());
    assertTrue(stored.size() <= 2 && !bodies(stored).contains("later"), "stored " + stored);
    long next = append(reopened, "bob", "after restart", 20);
    assertEquals(stored.get(stored.size() - 1).seq() + 1, next);
    assertEquals(next, readAll(reopened, "bob", 20).get(stored.size()).seq());
    await(reopened::close);
  }

  @Test
  @DisplayName("a write that fails (disk full) is cut back to the last commit; the store takes the next commit and loses nothing")
  void failedWriteIsCutBack() throws Exception {
    InboxConfig config = config(64L << 20);
    FaultyLogFiles files = new FaultyLogFiles();
    LogInboxStore store = open(config, files);
    assertEquals(1, append(store, "bob", "first", 10));
    files.failAt(1, EnumSet.of(FaultyLogFiles.Op.WRITE), FaultyLogFiles.ENOSPC);
    failure(() -> store.append(List.of(send("bob", "refused", 11)), List.of(), 11));
    assertEquals(2, append(store, "bob", "second", 12));
    await(store::close);
    LogInboxStore reopened = open(config);
    assertEquals(List.of("first", "second"), bodies(readAll(reopened, "bob", 20)));
    await(reopened::close);
  }

  @Test
  @DisplayName("a full disk (ENOSPC on every write and create) refuses appends clearly, loses none accepted, and takes appends again once space is freed")
  void fullDiskOnTheSeam() throws Exception {
    InboxConfig config = config(600);
    FaultyLogFiles files = new FaultyLogFiles();
    LogInboxStore store = open(config, files);
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      append(store, "bob", "before " + i + " " + "x".repeat(100), 10);
      accepted.add("before " + i + " " + "x".repeat(100));
    }
    files.full(true);
    for (int i = 0; i < 10; i++) {
      String body = "while full " + i + " " + "x".repeat(100);
      Throwable e = failure(() -> store.append(List.of(send("bob", body, 10)), List.of(), 10));
      assertTrue(e.getMessage().contains(FaultyLogFiles.ENOSPC), e.getMessage());
      assertTrue(!(e instanceof WritesStoppedException), "a full disk does not stop the store: " + e);
    }
    for (Path p : segments()) {
      assertTrue(Files.size(p) >= LogSegments.FILE_HEADER, "no empty segment left: " + p);
    }
    files.full(false);
    for (int i = 0; i < 10; i++) {
      String body = "after " + i + " " + "x".repeat(100);
      append(store, "bob", body, 10);
      accepted.add(body);
    }
    await(store::close);
    LogInboxStore reopened = open(config);
    List<StoredMessage> read = readAll(reopened, "bob", 20);
    assertEquals(accepted, bodies(read));
    assertEquals(20L, read.get(19).seq(), "refused sends took no seq");
    await(reopened::close);
  }

  @Test
  @DisplayName("a failed write whose cut-back also fails stops writes, like a failed sync; after a restart the half record is cut as a torn tail")
  void failedCutBackStopsWrites() throws Exception {
    InboxConfig config = config(64L << 20);
    FaultyLogFiles files = new FaultyLogFiles();
    LogInboxStore store = open(config, files);
    assertEquals(1, append(store, "bob", "first", 10));
    files.failAt(2, EnumSet.of(FaultyLogFiles.Op.WRITE), "Input/output error").broken(EnumSet.of(FaultyLogFiles.Op.TRUNCATE));
    // The record header is written, the entries' write fails (half of it lands), then the cut fails.
    failure(() -> store.append(List.of(send("bob", "torn", 11)), List.of(), 11));
    Throwable e = failure(() -> store.append(List.of(send("bob", "later", 12)), List.of(), 12));
    assertTrue(e instanceof WritesStoppedException, e.toString());
    assertEquals(List.of("first"), bodies(readAll(store, "bob", 12)));
    await(store::close);
    LogInboxStore reopened = open(config);
    assertEquals(List.of("first"), bodies(readAll(reopened, "bob", 20)));
    assertTrue(append(reopened, "bob", "after restart", 20) >= 2);
    await(reopened::close);
  }

  @Test
  @DisplayName("a roll that fails writing the new segment leaves no file behind; the store keeps accepting and retries the roll")
  void failedRollLeavesNoFile() throws Exception {
    InboxConfig config = config(300);
    FaultyLogFiles files = new FaultyLogFiles();
    LogInboxStore store = open(config, files);
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      append(store, "bob", "fill " + i, 10);
      accepted.add("fill " + i);
    }
    int before = segments().size();
    // The next commit rolls: its new segment's first write fails.
    files.failAt(1, EnumSet.of(FaultyLogFiles.Op.WRITE), FaultyLogFiles.ENOSPC);
    try {
      append(store, "bob", "maybe", 10);
      accepted.add("maybe");
    } catch (IOException e) {
      // Refused is fine; what matters is what follows.
    }
    for (Path p : segments()) {
      assertTrue(Files.size(p) >= LogSegments.FILE_HEADER, "no empty segment left: " + p);
    }
    for (int i = 0; i < 8; i++) {
      append(store, "bob", "more " + i, 10);
      accepted.add("more " + i);
    }
    assertTrue(segments().size() > before, "rolled once the fault was gone: " + segments());
    await(store::close);
    LogInboxStore reopened = open(config);
    assertEquals(accepted, bodies(readAll(reopened, "bob", 20)));
    await(reopened::close);
  }

  @Test
  @DisplayName("a purge's roll that fails leaves no file behind, and messages appended after it read back after a restart")
  void failedPurgeRollThenRestart() throws Exception {
    InboxConfig config = config(64L << 20);
    FaultyLogFiles files = new FaultyLogFiles();
    LogInboxStore store = open(config, files);
    append(store, "bob", "old", 0);
    // An hour later the purge rolls the old segment; the new segment's first write fails.
    files.failAt(1, EnumSet.of(FaultyLogFiles.Op.WRITE), FaultyLogFiles.ENOSPC);
    failure(() -> store.purge(HOUR + 1));
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      append(store, "bob", "new " + i, HOUR + 2);
      accepted.add("new " + i);
    }
    await(store::close);
    LogInboxStore reopened = open(config);
    assertEquals(accepted, bodies(readAll(reopened, "bob", HOUR + 3)));
    assertEquals(5, append(reopened, "bob", "next", HOUR + 3));
    await(reopened::close);
  }

  @Test
  @DisplayName("a roll whose checkpoint fails does not become the active segment, so purge cannot delete the only copy of heads and cursors")
  void failedCheckpointKeepsState() throws Exception {
    InboxConfig config = config(64L << 20);
    FaultyLogFiles files = new FaultyLogFiles();
    LogInboxStore store = open(config, files);
    for (int i = 1; i <= 3; i++) {
      append(store, "bob", "old " + i, 0);
    }
    await(() -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 3)), 0));
    // A first roll (by age) works; its segment has the checkpoint.
    await(() -> store.purge(HOUR + 1));
    append(store, "carol", "x", HOUR + 1);
    // The next roll by age: the header is written, the checkpoint's write fails.
    files.failAt(2, EnumSet.of(FaultyLogFiles.Op.WRITE), "Input/output error");
    try {
      await(() -> store.purge(3 * HOUR));
    } catch (IOException e) {
      // Reported to the verticle, which retries at the next purge.
    }
    // Later purges retire and delete whatever they consider safe.
    for (int i = 1; i <= 3; i++) {
      long now = 3 * HOUR + i;
      try {
        await(() -> store.purge(now));
      } catch (IOException e) {
        // As above.
      }
    }
    await(store::close);
    LogInboxStore reopened = open(config);
    assertEquals(3L, await(() -> reopened.cursor("bob", "phone")));
    assertEquals(4, append(reopened, "bob", "next", 3 * HOUR + 10));
    await(reopened::close);
  }

  @Test
  @DisplayName("a missing segment in the middle of the log stops the start, naming the hole")
  void missingSegmentRefused() throws Exception {
    InboxConfig config = config(300);
    LogInboxStore store = open(config);
    for (int i = 0; i < 30; i++) {
      append(store, "bob", "message " + i, 10);
    }
    await(store::close);
    List<Path> files = segments();
    assertTrue(files.size() >= 3, "several segments: " + files);
    Files.delete(files.get(1));
    Throwable e = failure(() -> new LogInboxStore(vertx, config, SystemLogFiles.INSTANCE).open());
    assertTrue(e.getMessage().contains("missing"), e.getMessage());
    assertTrue(e.getMessage().contains(files.get(0).getFileName().toString()), e.getMessage());
  }

  @Test
  @DisplayName("overlapping segments stop the start, naming both files")
  void overlappingSegmentsRefused() throws Exception {
    InboxConfig config = config(300);
    LogInboxStore store = open(config);
    for (int i = 0; i < 30; i++) {
      append(store, "bob", "message " + i, 10);
    }
    await(store::close);
    List<Path> files = segments();
    Path second = files.get(1);
    long base = Long.parseLong(second.getFileName().toString().replace(".log", ""));
    Files.move(second, second.resolveSibling(String.format("%020d.log", base - 20)));
    Throwable e = failure(() -> new LogInboxStore(vertx, config, SystemLogFiles.INSTANCE).open());
    assertTrue(e.getMessage().contains("overlap"), e.getMessage());
    assertTrue(e.getMessage().contains(files.get(0).getFileName().toString()), e.getMessage());
  }

  @Test
  @DisplayName("a segment copied under the next name (its records twice) stops the start instead of replaying seqs twice")
  void duplicatedSegmentRefused() throws Exception {
    InboxConfig config = config(64L << 20);
    LogInboxStore store = open(config);
    for (int i = 0; i < 5; i++) {
      append(store, "bob", "message " + i, 10);
    }
    await(store::close);
    Path only = segments().get(0);
    Files.copy(only, only.resolveSibling(String.format("%020d.log", Files.size(only))));
    Throwable e = failure(() -> new LogInboxStore(vertx, config, SystemLogFiles.INSTANCE).open());
    assertTrue(e.getMessage().contains("bob"), e.getMessage());
  }

  @Test
  @DisplayName("an empty segment file stops the start")
  void emptySegmentRefused() throws Exception {
    InboxConfig config = config(300);
    LogInboxStore store = open(config);
    for (int i = 0; i < 30; i++) {
      append(store, "bob", "message " + i, 10);
    }
    await(store::close);
    Path middle = segments().get(1);
    Files.write(middle, new byte[0]);
    Throwable e = failure(() -> new LogInboxStore(vertx, config, SystemLogFiles.INSTANCE).open());
    assertTrue(e.getMessage().contains(middle.getFileName().toString()), e.getMessage());
  }

  @Test
  @DisplayName("a stray file named like a segment stops the start")
  void straySegmentNameRefused() throws Exception {
    InboxConfig config = config(64L << 20);
    LogInboxStore store = open(config);
    append(store, "bob", "message", 10);
    await(store::close);
    Files.write(dataDir.resolve("log").resolve("123.log"), new byte[] {1, 2, 3});
    Throwable e = failure(() -> new LogInboxStore(vertx, config, SystemLogFiles.INSTANCE).open());
    assertTrue(e.getMessage().contains("123.log"), e.getMessage());
  }

}
