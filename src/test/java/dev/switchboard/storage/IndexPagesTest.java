package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The index page cache: values across page boundaries, the bound on pages held, failures surfaced. */
class IndexPagesTest {

  @TempDir
  Path dir;

  /** A sealed segment whose index file holds {@code index}; the segment file itself is not read here. */
  private LogSegments.Segment segment(long base, ByteBuffer index) throws IOException {
    Path file = dir.resolve(String.format("%020d.log", base));
    Files.write(file, new byte[LogSegments.FILE_HEADER]);
    Files.write(SegmentIndex.fileFor(file), index.array());
    LogSegments.Segment segment = new LogSegments.Segment(base, file, SystemLogFiles.INSTANCE.open(file),
        LogSegments.FILE_HEADER);
    segment.indexed = true;
    return segment;
  }

  @Test
  @DisplayName("longs and ints that straddle two pages read whole; no more pages are held than the capacity allows")
  void straddlingAndBounded() throws Exception {
    int size = IndexPages.PAGE_BYTES * 5;
    ByteBuffer bytes = ByteBuffer.allocate(size);
    for (int at = 0; at + 8 <= size; at += 36) {
      bytes.putLong(at, at * 31L + 7);
      bytes.putInt(at + 8, at ^ 0x5a5a);
    }
    LogSegments.Segment segment = segment(0, bytes);
    IndexPages pages = new IndexPages(SystemLogFiles.INSTANCE, 2L * IndexPages.PAGE_BYTES);
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
    LogSegments.Segment segment = segment(100, ByteBuffer.allocate(64));
    IndexPages pages = new IndexPages(SystemLogFiles.INSTANCE, 1 << 20);
    try {
      assertEquals(0, pages.getLong(segment, 0));
      assertThrows(IOException.class, () -> pages.getLong(segment, 60));
      LogSegments.Segment other = segment(200, ByteBuffer.allocate(64));
      other.indexed = false;
      assertThrows(IOException.class, () -> pages.getInt(other, 0));
      other.channel.close();
    } finally {
      segment.closeIndex();
      segment.channel.close();
    }
  }
}
