package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The log engine's files: a directory of segments, each a header and a run of records
 * {@code length:int32 crc32c:int32 entries}. Records are only ever appended to the newest segment;
 * a position is a byte offset in the whole log (a segment's file is named by the position of its
 * first byte), so positions only grow. Whole segments are deleted once everything in them expired.
 *
 * <p>Blocking: every method that touches a file runs on a worker thread. Appends and rolls come one
 * at a time (the store's single writer); reads run beside them.
 */
final class LogSegments {

  /** "SBLG": a Switchboard log segment. */
  static final int MAGIC = 0x53424C47;
  /** Version of the segment and entry format; a newer one is refused. */
  static final int FORMAT_VERSION = 1;
  static final int FILE_HEADER = 8;
  static final int RECORD_HEADER = 8;
  private static final Pattern NAME = Pattern.compile("(\\d{20})\\.log");

  /** One file of the log. Sizes and times are changed by the writer only. */
  static final class Segment {
    final long base;
    final Path file;
    final LogFiles.Channel channel;
    volatile long size;
    /** Newest message time and newest key time written to it (for deciding when it may go). */
    long newestMessage = Long.MIN_VALUE;
    long newestKey = Long.MIN_VALUE;
    /** When its first record was written (by the store's clock), for rolling an old segment. */
    long opened = Long.MAX_VALUE;
    /** Expired: still readable by reads already under way, deleted at the store's next purge. */
    boolean retired;

    Segment(long base, Path file, LogFiles.Channel channel, long size) {
      this.base = base;
      this.file = file;
      this.channel = channel;
      this.size = size;
    }

    long end() {
      return base + size;
    }
  }

  /** Receives each intact record at open, oldest first: its segment, where its entries start, the entries. */
  interface RecordConsumer {
    void record(Segment segment, long entriesPosition, ByteBuffer entries);
  }

  private final Path dir;
  private final LogFiles files;
  private final boolean syncEachAppend;
  private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
  private Segment active;
  /** Set by {@link #open}: the newest segment may lack its checkpoint (see {@link #needsCheckpoint}). */
  private boolean newestUnsure;

  LogSegments(Path dir, LogFiles files, boolean syncEachAppend) {
    this.dir = dir;
    this.files = files;
    this.syncEachAppend = syncEachAppend;
  }

  /**
   * Opens every segment and hands each record to {@code consumer}, oldest first. A torn record at the
   * end of the newest segment (a crash while it was written, before its commit was answered) is cut
   * off; damage anywhere else fails the open.
   */
  void open(RecordConsumer consumer) throws IOException {
    this.files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    for (Path p : this.files.list(dir)) {
      if (NAME.matcher(p.getFileName().toString()).matches()) {
        files.add(p);
      }
    }
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      Matcher m = NAME.matcher(file.getFileName().toString());
      m.matches();
      long base = Long.parseLong(m.group(1));
      LogFiles.Channel channel = this.files.open(file);
      Segment segment = new Segment(base, file, channel, channel.size());
      segments.put(base, segment);
      boolean last = i == files.size() - 1;
      if (segment.size < FILE_HEADER && last) {
        // Created but its header never reached the disk: start it again.
        writeHeader(segment);
      }
      checkHeader(segment);
      long goodEnd = scan(segment, consumer);
      if (last) {
        newestUnsure = goodEnd < segment.size || goodEnd == FILE_HEADER;
      }
      if (goodEnd < segment.size) {
        if (!last) {
          throw new IOException(file + " is damaged at offset " + goodEnd + " (" + segment.size + " bytes)");
        }
        channel.truncate(goodEnd);
        channel.force(true);
        segment.size = goodEnd;
      }
    }
    active = segments.isEmpty() ? null : segments.lastEntry().getValue();
  }

  /**
   * True when the newest segment was cut short or holds no record: a crash may have come between
   * creating it and writing its checkpoint, so the store must start a new segment (with a
   * checkpoint) before the older ones, which then hold the only copy of the state, can be deleted.
   */
  boolean needsCheckpoint() {
    return newestUnsure;
  }

  /** True before the first segment exists. */
  boolean isEmpty() {
    return active == null;
  }

  Segment active() {
    return active;
  }

  /** Segments from the oldest, the active one last. */
  Iterable<Segment> all() {
    return segments.values();
  }

  /**
   * Starts a new segment that begins with {@code checkpoint} (the state its records build on) and
   * makes it the one appended to. Always synced: the old segment may be deleted on its strength.
   */
  void roll(ByteBuffer checkpoint, long now) throws IOException {
    long base = active == null ? 0 : active.end();
    Path file = dir.resolve(String.format("%020d.log", base));
    LogFiles.Channel channel = files.create(file);
    Segment segment = new Segment(base, file, channel, 0);
    writeHeader(segment);
    if (active != null) {
      active.channel.force(true);
    }
    segments.put(base, segment);
    active = segment;
    if (checkpoint.hasRemaining()) {
      write(checkpoint, now);
    }
    channel.force(true);
    syncDirectory();
  }

  /** Appends one record; returns the position of its entries. Synced if the store is configured so. */
  long append(ByteBuffer entries, long now) throws IOException {
    long position = write(entries, now);
    if (syncEachAppend) {
      active.channel.force(false);
    }
    return position;
  }

  private long write(ByteBuffer entries, long now) throws IOException {
    Segment segment = active;
    long offset = segment.size;
    CRC32C crc = new CRC32C();
    crc.update(entries.duplicate());
    ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER).putInt(entries.remaining()).putInt((int) crc.getValue()).flip();
    try {
      long at = offset;
      for (ByteBuffer part : new ByteBuffer[] {header, entries}) {
        while (part.hasRemaining()) {
          at += segment.channel.write(part, at);
        }
      }
      segment.size = at;
    } catch (IOException e) {
      // Leave no half record behind, or the next one would follow garbage.
      segment.channel.truncate(offset);
      throw e;
    }
    segment.opened = Math.min(segment.opened, now);
    return segment.base + offset + RECORD_HEADER;
  }

  /**
   * The entry at {@code position}, whole, or null if its segment was deleted; {@code hint} bytes are
   * read first, the rest if it is longer.
   */
  ByteBuffer readEntry(long position, int hint) throws IOException {
    Map.Entry<Long, Segment> found = segments.floorEntry(position);
    if (found == null) {
      return null;
    }
    Segment segment = found.getValue();
    long offset = position - segment.base;
    ByteBuffer buffer = ByteBuffer.allocate((int) Math.max(4, Math.min(hint, segment.size - offset)));
    readFully(segment, buffer, offset);
    int total = LogEntries.totalLength(buffer.flip());
    if (total > buffer.limit()) {
      buffer = ByteBuffer.allocate(total);
      readFully(segment, buffer, offset);
      buffer.flip();
    }
    return buffer.limit(total);
  }

  /** Marks {@code segment} (not the active one) expired; {@link #delete} removes it later. */
  void retire(Segment segment) {
    segment.retired = true;
  }

  void delete(Segment segment) throws IOException {
    segments.remove(segment.base);
    segment.channel.close();
    files.delete(segment.file);
  }

  void close() throws IOException {
    for (Segment segment : segments.values()) {
      if (segment == active) {
        segment.channel.force(true);
      }
      segment.channel.close();
    }
    segments.clear();
    active = null;
  }

  private long scan(Segment segment, RecordConsumer consumer) throws IOException {
    long offset = FILE_HEADER;
    ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER);
    while (offset + RECORD_HEADER <= segment.size) {
      header.clear();
      readFully(segment, header, offset);
      int length = header.getInt(0);
      if (length <= 0 || length > segment.size - offset - RECORD_HEADER) {
        return offset;
      }
      ByteBuffer entries = ByteBuffer.allocate(length);
      readFully(segment, entries, offset + RECORD_HEADER);
      entries.flip();
      CRC32C crc = new CRC32C();
      crc.update(entries.duplicate());
      if ((int) crc.getValue() != header.getInt(4)) {
        return offset;
      }
      consumer.record(segment, segment.base + offset + RECORD_HEADER, entries);
      offset += RECORD_HEADER + length;
    }
    return offset;
  }

  private static void writeHeader(Segment segment) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(FILE_HEADER).putInt(MAGIC).putInt(FORMAT_VERSION).flip();
    while (header.hasRemaining()) {
      segment.channel.write(header, FILE_HEADER - header.remaining());
    }
    segment.size = FILE_HEADER;
  }

  private static void checkHeader(Segment segment) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(FILE_HEADER);
    readFully(segment, header, 0);
    if (header.getInt(0) != MAGIC) {
      throw new IOException(segment.file + " is not a Switchboard log segment");
    }
    int version = header.getInt(4);
    if (version > FORMAT_VERSION) {
      throw new IOException(segment.file + " has format version " + version + ", newer than this build knows ("
          + FORMAT_VERSION + ")");
    }
  }

  private static void readFully(Segment segment, ByteBuffer buffer, long offset) throws IOException {
    long at = offset;
    while (buffer.hasRemaining()) {
      int n = segment.channel.read(buffer, at);
      if (n < 0) {
        throw new IOException(segment.file + " ends at " + at + ", before the entry read at " + offset);
      }
      at += n;
    }
  }

  /** Makes a new file's directory entry durable (Linux: fsync of the directory). */
  private void syncDirectory() {
    try {
      files.syncDirectory(dir);
    } catch (IOException e) {
      // Not every platform can open a directory; the file's own sync still holds its contents.
    }
  }
}
