package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Index files read ahead of the start's pass: each given back whole or not, in any order asked, skipped ones dropped. */
class IndexReadsTest {

  @TempDir
  Path dir;

  /** A file of {@code size} bytes ending in the CRC-32C of the rest, as an index file ends. */
  private Path file(String name, int size, int fill) throws Exception {
    ByteBuffer bytes = ByteBuffer.allocate(size);
    for (int i = 0; i < size - 4; i++) {
      bytes.put(i, (byte) (fill + i));
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes.array(), 0, size - 4);
    bytes.putInt(size - 4, (int) crc.getValue());
    Path file = dir.resolve(name);
    Files.write(file, bytes.array());
    return file;
  }

  /** A file's bytes and whether they end in their own CRC-32C; null for one too short to. */
  private record Whole(ByteBuffer bytes, boolean whole) {
  }

  private static Whole readWhole(Path file) throws java.io.IOException {
    byte[] bytes = Files.readAllBytes(file);
    if (bytes.length < 8) {
      return null;
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    return new Whole(ByteBuffer.wrap(bytes), (int) crc.getValue() == ByteBuffer.wrap(bytes).getInt(bytes.length - 4));
  }

  @Test
  @DisplayName("files are given back whole, or marked not whole when their own CRC-32C fails; those skipped are dropped, one never listed is read then, one too short is no index")
  void readsAhead() throws Exception {
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      files.add(file(i + ".idx", 200 + i * 10, i));
    }
    LogTestSupport.flipByte(files.get(5), 17);
    Path unlisted = file("unlisted.idx", 300, 9);
    Path tiny = dir.resolve("tiny.idx");
    Files.write(tiny, new byte[] {1, 2, 3});
    try (IndexReads<Whole> reads = new IndexReads<>(List.of(files.get(0), files.get(1), files.get(2),
        files.get(3), files.get(4), files.get(5), files.get(6), files.get(7), tiny), IndexReadsTest::readWhole)) {
      Whole first = reads.take(files.get(0));
      assertTrue(first.whole());
      assertEquals(ByteBuffer.wrap(Files.readAllBytes(files.get(0))), first.bytes());
      // 1 to 3 are skipped (as after a segment read record by record): dropped, not waited for.
      Whole fifth = reads.take(files.get(4));
      assertTrue(fifth.whole());
      assertEquals(ByteBuffer.wrap(Files.readAllBytes(files.get(4))), fifth.bytes());
      assertFalse(reads.take(files.get(5)).whole(), "a flipped byte");
      assertTrue(reads.take(unlisted).whole());
      assertTrue(reads.take(files.get(6)).whole(), "an unlisted file drops nothing read ahead");
      assertTrue(reads.take(files.get(7)).whole());
      assertNull(reads.take(tiny));
    }
  }
}
