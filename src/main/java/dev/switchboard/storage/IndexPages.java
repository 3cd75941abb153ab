package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded cache of pages of sealed segments' index files, least recently used out first: what
 * reads of messages older than the active segment search instead of per-message entries in the heap.
 * Pages are read through {@link LogFiles}, so a failing disk fails the read that needed the page.
 * Safe for the worker threads that read beside each other.
 */
final class IndexPages {

  static final int PAGE_BYTES = 16 * 1024;

  /** A page of one segment's index; segment bases are never reused, so a deleted segment's pages only age out. */
  private record PageKey(long segmentBase, long page) {
  }

  private final LogFiles files;
  private final int maxPages;
  private final LinkedHashMap<PageKey, ByteBuffer> pages;

  IndexPages(LogFiles files, long capacityBytes) {
    this.files = files;
    this.maxPages = (int) Math.max(2, Math.min(Integer.MAX_VALUE, capacityBytes / PAGE_BYTES));
    this.pages = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<PageKey, ByteBuffer> eldest) {
        return size() > maxPages;
      }
    };
  }

  long getLong(LogSegments.Segment segment, long offset) throws IOException {
    int within = (int) (offset % PAGE_BYTES);
    if (within + 8 <= PAGE_BYTES) {
      return page(segment, offset / PAGE_BYTES, within + 8).getLong(within);
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (byteAt(segment, offset + i) & 0xff);
    }
    return v;
  }

  int getInt(LogSegments.Segment segment, long offset) throws IOException {
    int within = (int) (offset % PAGE_BYTES);
    if (within + 4 <= PAGE_BYTES) {
      return page(segment, offset / PAGE_BYTES, within + 4).getInt(within);
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      v = (v << 8) | (byteAt(segment, offset + i) & 0xff);
    }
    return v;
  }

  /** Pages held now (for tests of the bound). */
  synchronized int size() {
    return pages.size();
  }

  private byte byteAt(LogSegments.Segment segment, long offset) throws IOException {
    int within = (int) (offset % PAGE_BYTES);
    return page(segment, offset / PAGE_BYTES, within + 1).get(within);
  }

  /** The page, read if it is not held; at least {@code needed} bytes of it must exist in the file. */
  private ByteBuffer page(LogSegments.Segment segment, long page, int needed) throws IOException {
    PageKey key = new PageKey(segment.base, page);
    ByteBuffer held;
    synchronized (this) {
      held = pages.get(key);
    }
    if (held == null) {
      held = read(segment, page);
      synchronized (this) {
        pages.put(key, held);
      }
    }
    if (held.limit() < needed) {
      throw new IOException("index of " + segment.file + " ends inside page " + page + " (" + held.limit()
          + " bytes), before the " + needed + " needed");
    }
    return held;
  }

  private ByteBuffer read(LogSegments.Segment segment, long page) throws IOException {
    LogFiles.Channel channel = segment.indexChannel(files);
    ByteBuffer buffer = ByteBuffer.allocate(PAGE_BYTES);
    long at = page * PAGE_BYTES;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, at);
      if (n < 0) {
        break;
      }
      at += n;
    }
    return buffer.flip();
  }
}
