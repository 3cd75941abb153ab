package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The index page cache: values across page boundaries, the bound on pages held, failures surfaced. */
class IndexPagesTest {

  @TempDir
  Path dir;

  /** Bytes before the messages section in the test's index files: page offsets count from the section. */
  private static final int BEFORE = 100;

  /**
   * A sealed segment whose index file holds {@code messages} as its messages section (a whole number of
   * entries), after {@link #BEFORE} other bytes, with the CRC-32C of each page; the segment file is not read here.
   */
  private LogSegments.Segment segment(long base, ByteBuffer messages) throws IOException {
    Path file = dir.resolve(String.format("%020d.log", base));
    Files.write(file, new byte[LogSegments.FILE_HEADER]);
    byte[] index = new byte[BEFORE + messages.limit()];
    messages.get(0, index, BEFORE, messages.limit());
    Files.write(SegmentIndex.fileFor(file), index);
    int count = messages.limit() / SegmentIndex.MESSAGE_BYTES;
    int[] crcs = new int[SegmentIndex.Messages.pages(count)];
    for (int p = 0; p < crcs.length; p++) {
      CRC32C crc = new CRC32C();
      crc.update(index, BEFORE + p * IndexPages.PAGE_BYTES, Math.min(IndexPages.PAGE_BYTES, count * SegmentIndex.MESSAGE_BYTES - p * IndexPages.PAGE_BYTES));
      crcs[p] = (int) crc.getValue();
    }
    LogSegments.Segment segment = new LogSegments.Segment(base, file, SystemLogFiles.INSTANCE.open(file),
        LogSegments.FILE_HEADER);
    segment.messages = new SegmentIndex.Messages(BEFORE, count, crcs);
    segment.indexed = true;
    return segment;
  }

  private final SegmentDamage damage = new SegmentDamage(SystemLogFiles.INSTANCE);

  @Test
  @DisplayName("longs and ints that straddle two pages read whole; no more pages are held than the capacity allows")
  void straddlingAndBounded() throws Exception {
    int size = IndexPages.PAGE_BYTES * 5 + 40 * 7;
    ByteBuffer bytes = ByteBuffer.allocate(size);
    for (int at = 0; at + 8 <= size; at += 36) {
      bytes.putLong(at, at * 31L + 7);
      bytes.putInt(at + 8, at ^ 0x5a5a);
    }
    LogSegments.Segment segment = segment(0, bytes);
    IndexPages pages = new IndexPages(SystemLogFiles.INSTANCE, 2L * IndexPages.PAGE_BYTES, damage);
    try {
      int straddled = 0;
      for (int at = 0; at + 12 <= size; at += 36) {
        assertEquals(at * 31L + 7, pages.getLong(segment, at), "long at " + at);
        assertEquals(at ^ 0x5a5a, pages.getInt(segment, at + 8), "int at " + (at + 8));
        if (at / IndexPages.PAGE_BYTES != (at + 11) / IndexPages.PAGE_BYTES) {
          straddled++;
        }
        assertTrue(pages.size() <= 2, "pages held: " + pages.size());
      }
      assertTrue(straddled >= 2, "values across page boundaries were read: " + straddled);
    } finally {
      segment.closeIndex();
      segment.channel.close();
    }
  }

  @Test
  @DisplayName("a read past the end of an index, or of a segment whose index is gone, fails instead of answering")
  void failuresSurface() throws Exception {
    LogSegments.Segment segment = segment(100, ByteBuffer.allocate(80));
    IndexPages pages = new IndexPages(SystemLogFiles.INSTANCE, 1 << 20, damage);
    try {
      assertEquals(0, pages.getLong(segment, 0));
      assertThrows(IOException.class, () -> pages.getLong(segment, 76));
      LogSegments.Segment other = segment(200, ByteBuffer.allocate(80));
      other.indexed = false;
      assertThrows(IOException.class, () -> pages.getInt(other, 0));
      other.channel.close();
    } finally {
      segment.closeIndex();
      segment.channel.close();
    }
  }

  @Test
  @DisplayName("a page whose bytes do not match its CRC-32C fails the read as damage, is never kept, and reports its segment; other pages read on")
  void damagedPageRefused() throws Exception {
    ByteBuffer bytes = ByteBuffer.allocate(IndexPages.PAGE_BYTES * 3);
    for (int at = 0; at + 8 <= bytes.limit(); at += 8) {
      bytes.putLong(at, at * 7L + 1);
    }
    LogSegments.Segment segment = segment(300, bytes);
    LogTestSupport.flipByte(SegmentIndex.fileFor(segment.file), BEFORE + IndexPages.PAGE_BYTES + 123);
    IndexPages pages = new IndexPages(SystemLogFiles.INSTANCE, 1 << 20, damage);
    try {
      assertEquals(1L, pages.getLong(segment, 0));
      for (int attempt = 0; attempt < 2; attempt++) {
        assertThrows(DamagedEntryException.class, () -> pages.getLong(segment, IndexPages.PAGE_BYTES + 8));
      }
      assertEquals(2L * IndexPages.PAGE_BYTES * 7 + 1, pages.getLong(segment, 2L * IndexPages.PAGE_BYTES));
      assertEquals(List.of(segment.file.toString()), damage.files());
      assertTrue(Files.exists(SegmentDamage.markerFor(segment.file)), "marked for the next start");
    } finally {
      segment.closeIndex();
      segment.channel.close();
    }
  }
}
