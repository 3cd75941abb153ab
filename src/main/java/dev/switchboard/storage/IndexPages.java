package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A bounded cache of pages of sealed segments' index messages sections, least recently used out
 * first: what reads of messages older than the active segment search instead of per-message entries
 * in the heap. Offsets are counted from the start of a segment's messages section. Pages are read
 * through {@link LogFiles}, so a failing disk fails the read that needed the page, and each page is
 * checked against the CRC-32C its index holds for it (read on the segment's first page read) before it is used or kept: a page
 * that does not match fails the read and reports the segment to {@link SegmentDamage}, never
 * answering from damaged bytes. Safe for the worker threads that read beside each other.
 */
final class IndexPages {

  static final int PAGE_BYTES = SegmentIndex.PAGE_BYTES;

  /** A page of one segment's index; segment bases are never reused, so a deleted segment's pages only age out. */
  private record PageKey(long segmentBase, long page) {
  }

  private final LogFiles files;
  private final SegmentDamage damage;
  private final int maxPages;
  private final LinkedHashMap<PageKey, ByteBuffer> pages;

  IndexPages(LogFiles files, long capacityBytes, SegmentDamage damage) {
    this.files = files;
    this.damage = damage;
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
    SegmentIndex.Messages messages = segment.messages;
    if (messages == null) {
      throw new IOException(segment.file + " has no index to read (it was deleted, or its index never written)");
    }
    int[] pageCrcs;
    try {
      pageCrcs = messages.pageCrcs(segment, files);
    } catch (DamagedEntryException e) {
      damage.found(segment, "a read found " + e.getMessage());
      throw e;
    }
    if (page < 0 || page >= pageCrcs.length) {
      throw new IOException("index of " + segment.file + " has " + pageCrcs.length
          + " pages of messages, not page " + page);
    }
    LogFiles.Channel channel = segment.indexChannel(files);
    ByteBuffer buffer = ByteBuffer.allocate(messages.pageLength(page));
    long at = messages.at() + page * PAGE_BYTES;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, at);
      if (n < 0) {
        throw new IOException("index of " + segment.file + " ends at " + at + ", inside page " + page + " of its messages");
      }
      at += n;
    }
    buffer.flip();
    CRC32C crc = new CRC32C();
    crc.update(buffer.duplicate());
    if ((int) crc.getValue() != pageCrcs[(int) page]) {
      String what = "page " + page + " of the messages section of its index " + SegmentIndex.fileFor(segment.file)
          + " does not match the CRC-32C the index holds for it";
      damage.found(segment, "a read found " + what);
      throw new DamagedEntryException(what);
    }
    return buffer;
  }
}
