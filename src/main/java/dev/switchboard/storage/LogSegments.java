package dev.switchboard.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
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
 * first byte), so positions only grow and each segment begins where the one before it ends. Whole
 * segments are deleted, oldest first, once everything in them expired.
 *
 * <p>Faults: a write that fails is cut back to the end of the last commit (and the cut checked); a
 * sync that fails, or a cut that cannot be made, stops every later write until restart, because
 * after a failed {@code fsync} the kernel may have dropped the unwritten pages and what the file
 * holds is unknown. A new segment is written under a temporary name and renamed only once complete
 * and synced, so a failed roll leaves nothing behind and the current segment stays the one written.
 *
 * <p>Blocking: every method that touches a file runs on a worker thread. Appends and rolls come one
 * at a time (the store's single writer); reads run beside them.
 */
final class LogSegments {

  private static final Logger LOG = LoggerFactory.getLogger(LogSegments.class);

  /** "SBLG": a Switchboard log segment. */
  static final int MAGIC = 0x53424C47;
  /** Version of the segment and entry format; a newer one is refused. */
  static final int FORMAT_VERSION = 1;
  static final int FILE_HEADER = 8;
  static final int RECORD_HEADER = 8;
  static final String TEMP_SUFFIX = ".tmp";
  static final String QUARANTINE = "quarantine";
  private static final Pattern NAME = Pattern.compile("(\\d{20})\\.log");
  private static final Pattern INDEX_NAME = Pattern.compile("(\\d{20})\\.idx");
  private static final Pattern MARKER_NAME = Pattern.compile("(\\d{20})\\.log\\.damaged");
  /** Past this many bytes after a bad record, open does not search them for valid records and calls it damage. */
  private static final long MAX_TAIL_SEARCH = 1L << 30;

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
    /** Sealed with an index file that matches it (checked at open, or written since): reads may search it. */
    volatile boolean indexed;
    /** The CRC-32C of the whole file its index recorded, for the check after a start that did not read it. */
    int indexCrc;
    /** Where its index's messages section is and the CRC-32C of each page of it; set before {@link #indexed}. */
    volatile SegmentIndex.Messages messages;
    /** Its messages per user (count, lowest and highest seq), read from its index once it expired; the store's to use. */
    java.util.Map<String, long[]> sealedCounts;
    /** True once the store took {@link #sealedCounts} off its inboxes. */
    boolean countsApplied;
    /** The index file opened for reads, or null until the first. */
    private LogFiles.Channel index;
    /**
     * What its index will hold, collected commit by commit, and the CRC-32C of every byte written to
     * it, so that sealing it reads nothing back; null for a segment this process did not write from
     * its first byte (those found at open are read again to be indexed), and once its index is written.
     */
    private SegmentIndex.Builder indexBuilder;
    private CRC32C written;

    /** The index file, opened on first use; the segment must be {@link #indexed}. */
    synchronized LogFiles.Channel indexChannel(LogFiles files) throws IOException {
      if (!indexed) {
        throw new IOException(file + " has no index to read (it was deleted, or its index never written)");
      }
      if (index == null) {
        index = files.open(SegmentIndex.fileFor(file));
      }
      return index;
    }

    synchronized void closeIndex() {
      if (index != null) {
        try {
          index.close();
        } catch (IOException e) {
          LOG.debug("inbox log: closing the index of {}", file, e);
        }
        index = null;
      }
    }

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

  /** What a commit adds to the index of the segment it was appended to. */
  interface IndexFeed {
    void add(SegmentIndex.Builder builder, long entriesPosition);
  }

  /** Receives each intact record at open, oldest first, and each run of damaged bytes a repair set aside. */
  interface RecordConsumer {
    void record(Segment segment, long entriesPosition, ByteBuffer entries);

    /** {@code length} damaged bytes at {@code position} were moved to quarantine; the messages in them are lost. */
    default void damaged(long position, long length) {
    }

    /** A torn record is about to be cut off: {@code entries} is what followed its header, maybe garbage. */
    default void torn(ByteBuffer entries, long length) {
    }

    /** A sealed segment whose index was checked against it: its records are not read one by one. */
    void indexed(Segment segment, SegmentIndex index);
  }

  /** Feeds the records read to the store's consumer and to the builder of the segment's index. */
  private record Tee(RecordConsumer consumer, SegmentIndex.Builder builder) implements RecordConsumer {
    @Override
    public void record(Segment segment, long entriesPosition, ByteBuffer entries) {
      if (builder != null) {
        builder.record(entriesPosition, entries);
      }
      if (consumer != null) {
        consumer.record(segment, entriesPosition, entries);
      }
    }

    @Override
    public void damaged(long position, long length) {
      if (consumer != null) {
        consumer.damaged(position, length);
      }
    }

    @Override
    public void torn(ByteBuffer entries, long length) {
      if (consumer != null) {
        consumer.torn(entries, length);
      }
    }

    @Override
    public void indexed(Segment segment, SegmentIndex index) {
      throw new IllegalStateException("a segment being read has no index");
    }
  }

  private final Path dir;
  private final LogFiles files;
  private final boolean syncEachAppend;
  private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
  private Segment active;
  /** Set by {@link #open}: the newest segment may lack its checkpoint (see {@link #needsCheckpoint}). */
  private boolean newestUnsure;
  /** Segments the last {@link #open} took from their index instead of reading their records. */
  private int openedByIndex;
  /** Segments the last {@link #open} took from their index without reading a byte of them: to check later. */
  private final List<Segment> unread = new ArrayList<>();
  /** Why writes stopped (a failed sync), or null while the log takes writes. */
  private volatile String stopped;

  LogSegments(Path dir, LogFiles files, boolean syncEachAppend) {
    this.dir = dir;
    this.files = files;
    this.syncEachAppend = syncEachAppend;
  }

  /**
   * Opens every segment, checks that they follow each other without holes or overlaps, and hands
   * each record to {@code consumer}, oldest first. A bad record with nothing valid after it at the
   * end of the newest segment is a write torn by a crash, before its commit was answered: it is cut
   * off, with a warning. A bad record anywhere else is damage: the open fails, naming the file and
   * offset, unless {@code repair} is set, which moves the damaged bytes to {@code quarantine/}, puts
   * a PAD record in their place and goes on.
   *
   * <p>A sealed segment with a whole index of this version for its base and length is taken from the
   * index; with {@code checkLater} its bytes are not read at all (the caller checks them against the
   * index afterwards, {@link #unread}), else its CRC-32C is checked first. A segment with a marker
   * {@code <segment>.log.damaged} (damage found while an earlier start ran) is read record by record, and
   * the marker removed once every record reads whole. An index's idempotency keys are read only if its
   * newest key is at or after {@code keysNotBefore} (older ones are outside the window for good).
   */
  void open(RecordConsumer consumer, boolean repair, boolean checkLater, long keysNotBefore) throws IOException {
    files.createDirectories(dir);
    List<Path> found = new ArrayList<>();
    Map<Long, Path> indexes = new HashMap<>();
    Map<Long, Path> markers = new HashMap<>();
    for (Path p : files.list(dir)) {
      String name = p.getFileName().toString();
      Matcher indexName = INDEX_NAME.matcher(name);
      Matcher markerName = MARKER_NAME.matcher(name);
      if (NAME.matcher(name).matches()) {
        found.add(p);
      } else if (indexName.matches()) {
        indexes.put(Long.parseLong(indexName.group(1)), p);
      } else if (markerName.matches()) {
        markers.put(Long.parseLong(markerName.group(1)), p);
      } else if (name.endsWith(SegmentIndex.SUFFIX + TEMP_SUFFIX)) {
        LOG.info("inbox log: deleting {}, left by an index write that did not complete", p);
        deleteIndexFile(p);
      } else if (name.endsWith(".log" + TEMP_SUFFIX)) {
        // A roll that never completed: its segment never became visible, nothing refers to it.
        LOG.warn("inbox log: deleting {}, left by a segment roll that did not complete", p);
        files.delete(p);
      } else if (name.endsWith(".log")) {
        throw new IOException(p + " is in the log directory but is not named like a segment (20 digits, .log):"
            + " move it out of " + dir + " and start again");
      } else if (!name.equals(QUARANTINE)) {
        LOG.warn("inbox log: ignoring {}, which is not part of the log", p);
      }
    }
    List<Path> checked = new ArrayList<>();
    if (!repair && !checkLater) {
      for (int i = 0; i + 1 < found.size(); i++) {
        Matcher m = NAME.matcher(found.get(i).getFileName().toString());
        m.matches();
        long base = Long.parseLong(m.group(1));
        if (indexes.containsKey(base) && !markers.containsKey(base)) {
          checked.add(found.get(i));
        }
      }
    }
    List<Path> readAhead = new ArrayList<>();
    if (!repair && checkLater) {
      for (int i = 0; i + 1 < found.size(); i++) {
        Matcher m = NAME.matcher(found.get(i).getFileName().toString());
        m.matches();
        long base = Long.parseLong(m.group(1));
        if (indexes.containsKey(base) && !markers.containsKey(base)) {
          readAhead.add(indexes.get(base));
        }
      }
    }
    // Every checkpoint holds each inbox's head and each cursor at least as high as any before it: only
    // the newest sealed segment's are read (the newest segment's own checkpoint may be a torn record).
    Path newestSealedIndex = null;
    if (found.size() >= 2) {
      Matcher m = NAME.matcher(found.get(found.size() - 2).getFileName().toString());
      m.matches();
      newestSealedIndex = indexes.get(Long.parseLong(m.group(1)));
    }
    Path stateFrom = newestSealedIndex;
    try (SegmentCrcs crcs = new SegmentCrcs(files, checked);
         IndexReads<SegmentIndex.FileBytes> ahead = new IndexReads<>(readAhead,
             file -> SegmentIndex.readFile(files, file, keysNotBefore, file.equals(stateFrom)))) {
      Segment previous = null;
      // Segments are taken from their index only while every one before was: what the store keeps
      // per message (those after the first without an index) is then one run at the end of the log.
      boolean indexedSoFar = true;
      for (int i = 0; i < found.size(); i++) {
        Path file = found.get(i);
        Matcher m = NAME.matcher(file.getFileName().toString());
        m.matches();
        long base = Long.parseLong(m.group(1));
        boolean last = i == found.size() - 1;
        LogFiles.Channel channel = files.open(file);
        Segment segment = new Segment(base, file, channel, channel.size());
        segments.put(base, segment);
        if (previous != null && base != previous.end()) {
          throw new IOException(base > previous.end()
              ? "inbox log: " + (base - previous.end()) + " bytes are missing between " + previous.file.getFileName()
                  + " (ends at position " + previous.end() + ") and " + file.getFileName()
                  + ": a segment file was deleted or lost. Restore it from a backup, or move the files before the hole"
                  + " out of " + dir + " to give up the messages in them"
              : "inbox log: " + file.getFileName() + " overlaps " + previous.file.getFileName() + " (which ends at position "
                  + previous.end() + "): a segment file was copied or renamed. Move the stray copy out of " + dir);
        }
        if (segment.size < FILE_HEADER) {
          throw new IOException("inbox log: " + file + " is " + segment.size + " bytes, shorter than a segment header:"
              + " segments are never created empty, so it was truncated or is not one of ours"
              + (last ? " (or an older Switchboard crashed while creating it: then moving it out loses nothing)." : ".")
              + " Restore it from a backup, or move it out of " + dir + (last ? "" : " with every segment before it"));
        }
        Path index = indexes.remove(base);
        Path marker = markers.remove(base);
        boolean byIndex = !last && !repair && index != null && indexedSoFar && marker == null;
        if (!(byIndex && checkLater)) {
          checkHeader(segment);
        }
        if (marker != null) {
          LOG.warn("inbox log: {} was found damaged while the store ran ({}); reading every record of it", file, marker);
        }
        if (byIndex) {
          boolean withState = i == found.size() - 2;
          SegmentIndex loaded = checkLater ? SegmentIndex.load(files, segment, null, ahead, keysNotBefore, withState)
              : SegmentIndex.load(files, segment, crcs, null, keysNotBefore, withState);
          if (loaded == null && checkLater) {
            checkHeader(segment);
          }
          if (loaded != null) {
            openedByIndex++;
            segment.indexed = true;
            segment.indexCrc = loaded.segmentCrc();
            segment.messages = loaded.messages();
            if (checkLater) {
              unread.add(segment);
            }
            try {
              consumer.indexed(segment, loaded);
            } catch (RuntimeException e) {
              throw new IOException("inbox log: " + file + " (read through its index): " + e.getMessage(), e);
            }
            previous = segment;
            continue;
          }
        }
        if (last && index != null) {
          // The newest segment is appended to: an index of it (its successor was lost) would only go stale.
          deleteIndexFile(index);
        }
        SegmentIndex.Builder builder = last ? null : new SegmentIndex.Builder();
        long goodEnd = scan(segment, new Tee(consumer, builder), last, repair);
        if (builder != null) {
          // A log written before indexes existed, a lost or stale index, or a repaired segment: indexed now.
          segment.indexed = SegmentIndex.write(files, segment, builder, SegmentIndex.segmentCrc(segment));
        }
        if (marker != null) {
          // Every record read whole (or was repaired): the index now made from them matches the segment.
          LOG.info("inbox log: {} reads whole; removing {}", file, marker);
          deleteIndexFile(marker);
        }
        indexedSoFar = indexedSoFar && segment.indexed;
        if (last) {
          newestUnsure = goodEnd < segment.size || goodEnd == FILE_HEADER;
        }
        if (goodEnd < segment.size) {
          LOG.warn("inbox log: cutting off a torn write at the end of {}: offset {}, {} bytes (a commit being written"
              + " when the process or machine stopped; with synchronous=FULL it was never answered)", file, goodEnd, segment.size - goodEnd);
          channel.truncate(goodEnd);
          channel.force(true);
          segment.size = goodEnd;
        }
        previous = segment;
      }
    } catch (IOException | RuntimeException e) {
      closeAll();
      throw e;
    }
    for (Path orphan : indexes.values()) {
      // Its segment is gone (moved out of the directory, or lost): nothing may ever match it again.
      LOG.info("inbox log: deleting {}, an index without its segment", orphan);
      deleteIndexFile(orphan);
    }
    for (Path orphan : markers.values()) {
      LOG.info("inbox log: deleting {}, a damage marker without its segment", orphan);
      deleteIndexFile(orphan);
    }
    active = segments.isEmpty() ? null : segments.lastEntry().getValue();
  }

  /** Deletes an index or marker file; a failure is only logged (an index is checked before use, a marker only costs a full read). */
  private void deleteIndexFile(Path file) {
    try {
      files.delete(file);
    } catch (IOException e) {
      LOG.warn("inbox log: could not delete {} ({}); it is checked against its segment before any use", file, e.toString());
    }
  }

  /**
   * True when the newest segment was cut short or holds no record: it may lack its checkpoint (a
   * log written before rolls were atomic), so the store starts a new segment with one before the
   * older segments, which then hold the only copy of the state, can be deleted.
   */
  boolean needsCheckpoint() {
    return newestUnsure;
  }

  /** How many segments the open took from their index (the others' records were read). */
  int openedByIndex() {
    return openedByIndex;
  }

  /** The sealed segments the open took from their index without reading them, oldest first. */
  List<Segment> unread() {
    return List.copyOf(unread);
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
   * The segments from the one holding log position {@code from} (or the oldest, if it is gone) to
   * the one holding {@code to}, oldest first.
   */
  Iterable<Segment> between(long from, long to) {
    Long first = segments.floorKey(from);
    return segments.subMap(first == null ? from : first, true, to, true).values();
  }

  /** Null while the log takes writes; else why it stopped. */
  String stoppedBecause() {
    return stopped;
  }

  /**
   * Starts a new segment that begins with {@code checkpoint} (the state its records build on) and
   * makes it the one appended to. Written under a temporary name, synced, renamed and the directory
   * synced, and only then used: if any step fails the file is removed, the current segment stays
   * active and the exception is thrown; the caller may try again later. Returns the segment it
   * sealed (the one active before), or null for the first segment; its index is for the caller to
   * write ({@link #index}), off the commit's path.
   */
  Segment roll(ByteBuffer checkpoint, long now) throws IOException {
    checkWritable();
    long base = active == null ? 0 : active.end();
    Path file = dir.resolve(String.format("%020d.log", base));
    Path temp = dir.resolve(file.getFileName() + TEMP_SUFFIX);
    LogFiles.Channel channel = null;
    Segment segment;
    try {
      channel = files.create(temp);
      segment = new Segment(base, file, channel, 0);
      segment.indexBuilder = new SegmentIndex.Builder();
      segment.written = new CRC32C();
      writeHeader(segment);
      if (checkpoint.hasRemaining()) {
        ByteBuffer entries = checkpoint.duplicate();
        ByteBuffer header = recordHeader(entries);
        writeFully(channel, header, FILE_HEADER);
        writeFully(channel, entries, FILE_HEADER + RECORD_HEADER);
        segment.size = FILE_HEADER + RECORD_HEADER + checkpoint.remaining();
        segment.written.update(header.rewind());
        segment.written.update(checkpoint.duplicate());
        segment.indexBuilder.record(base + FILE_HEADER + RECORD_HEADER, checkpoint);
      }
      channel.force(true);
    } catch (IOException e) {
      discard(channel, temp);
      throw e;
    }
    if (active != null) {
      try {
        active.channel.force(true);
      } catch (IOException e) {
        discard(channel, temp);
        throw stop("sync of " + active.file, e);
      }
    }
    try {
      files.rename(temp, file);
    } catch (IOException e) {
      discard(channel, temp);
      throw e;
    }
    try {
      files.syncDirectory(dir);
    } catch (IOException e) {
      // Whether the new name is durable is unknown: appending on either segment could be lost.
      discard(channel, file);
      throw stop("sync of directory " + dir, e);
    }
    Segment sealed = active;
    segments.put(base, segment);
    active = segment;
    if (checkpoint.hasRemaining()) {
      segment.opened = Math.min(segment.opened, now);
    }
    return sealed;
  }

  /**
   * Writes the index of a sealed segment: from what its commits added as they were appended, or
   * (a segment found at open) from its records read again. False if it could not (logged): the
   * next start then reads the segment's records, as it does for a log without indexes.
   */
  boolean index(Segment sealed) {
    if (sealed.indexed) {
      // Listed again by a roll that came while its index was being written.
      return true;
    }
    if (sealed.indexBuilder != null) {
      sealed.indexed = SegmentIndex.write(files, sealed, sealed.indexBuilder, (int) sealed.written.getValue());
      if (sealed.indexed) {
        sealed.indexBuilder = null;
        sealed.written = null;
      }
      return sealed.indexed;
    }
    SegmentIndex.Builder builder = new SegmentIndex.Builder();
    int crc;
    try {
      scan(sealed, new Tee(null, builder), false, false);
      crc = SegmentIndex.segmentCrc(sealed);
    } catch (IOException | RuntimeException e) {
      LOG.warn("inbox log: could not index sealed {} ({}); the next start reads its records instead",
          sealed.file, e.toString());
      return false;
    }
    sealed.indexed = SegmentIndex.write(files, sealed, builder, crc);
    return sealed.indexed;
  }

  /** Closes and removes a segment file that never became active; a failure only leaves it for the next open to delete. */
  private void discard(LogFiles.Channel channel, Path file) {
    try {
      if (channel != null) {
        channel.close();
      }
      files.delete(file);
    } catch (IOException e) {
      LOG.warn("inbox log: could not remove {} after a failed roll ({}); the next start deletes it", file, e.toString());
    }
  }

  /**
   * Appends one record; returns the position of its entries. Synced if the store is configured so.
   * A failed write is cut back; a failed sync stops all later writes ({@link WritesStoppedException}).
   * Once written, {@code feed} adds the record's entries to the segment's index-to-be, if it has one.
   */
  long append(ByteBuffer entries, long now, IndexFeed feed) throws IOException {
    checkWritable();
    Segment segment = active;
    long offset = segment.size;
    writeRecord(segment, entries);
    if (syncEachAppend) {
      try {
        segment.channel.force(false);
      } catch (IOException e) {
        throw stop("sync of " + segment.file, e);
      }
    }
    segment.opened = Math.min(segment.opened, now);
    long position = segment.base + offset + RECORD_HEADER;
    if (segment.indexBuilder != null) {
      feed.add(segment.indexBuilder, position);
    }
    return position;
  }

  private void checkWritable() throws WritesStoppedException {
    String why = stopped;
    if (why != null) {
      throw new WritesStoppedException("the inbox log takes no writes until restarted: " + why);
    }
  }

  /** Stops all later writes, logs why once, and returns the exception to throw. */
  private IOException stop(String what, IOException cause) {
    if (stopped == null) {
      stopped = what + " failed (" + cause.getMessage() + ")";
      LOG.error("inbox log: {} failed; the store takes no more writes until it is restarted (reads go on): after a"
          + " failed sync the kernel may have dropped the unwritten data, so what the file holds is unknown and"
          + " no later commit may follow it. Check the disk (dmesg), then restart.", what, cause);
    }
    return new WritesStoppedException("the inbox log takes no writes until restarted: " + stopped);
  }

  /** Writes a whole record at the end of {@code segment}, or cuts back what part of it was written. */
  private void writeRecord(Segment segment, ByteBuffer entries) throws IOException {
    long offset = segment.size;
    ByteBuffer header = recordHeader(entries);
    ByteBuffer whole = entries.duplicate();
    try {
      long at = offset;
      while (header.hasRemaining()) {
        at += segment.channel.write(header, at);
      }
      while (entries.hasRemaining()) {
        at += segment.channel.write(entries, at);
      }
      segment.size = at;
      if (segment.written != null) {
        segment.written.update(header.rewind());
        segment.written.update(whole);
      }
    } catch (IOException e) {
      // Leave no half record behind, or the next one would follow garbage.
      try {
        segment.channel.truncate(offset);
        long size = segment.channel.size();
        if (size != offset) {
          throw new IOException(segment.file + " is " + size + " bytes after cutting it back to " + offset);
        }
      } catch (IOException cut) {
        e.addSuppressed(cut);
        throw stop("cutting back a failed write to " + segment.file, e);
      }
      throw e;
    }
  }

  private static ByteBuffer recordHeader(ByteBuffer entries) {
    CRC32C crc = new CRC32C();
    crc.update(entries.duplicate());
    return ByteBuffer.allocate(RECORD_HEADER).putInt(entries.remaining()).putInt((int) crc.getValue()).flip();
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
    if (total < 5 || total > segment.size - offset) {
      throw new DamagedEntryException(segment.file + " holds an entry of " + total + " bytes at offset " + offset
          + ", which does not fit in the segment");
    }
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

  /** Deletes an expired segment's file; on failure it stays in the log, to be deleted by a later purge. */
  void delete(Segment segment) throws IOException {
    // The index first: a segment left without one is read whole at the next start, never the reverse.
    segment.indexed = false;
    segment.closeIndex();
    files.delete(SegmentIndex.fileFor(segment.file));
    files.delete(SegmentDamage.markerFor(segment.file));
    files.delete(segment.file);
    segments.remove(segment.base);
    try {
      segment.channel.close();
    } catch (IOException e) {
      LOG.debug("inbox log: closing deleted {}", segment.file, e);
    }
  }

  void close() throws IOException {
    IOException failed = null;
    for (Segment segment : segments.values()) {
      segment.closeIndex();
      try {
        // After a failed sync, a second one may report success for data already lost: it proves nothing.
        if (segment == active && stopped == null) {
          segment.channel.force(true);
        }
      } catch (IOException e) {
        failed = e;
      } finally {
        try {
          segment.channel.close();
        } catch (IOException e) {
          failed = failed == null ? e : failed;
        }
      }
    }
    segments.clear();
    active = null;
    if (failed != null) {
      throw failed;
    }
  }

  private void closeAll() {
    for (Segment segment : segments.values()) {
      segment.closeIndex();
      try {
        segment.channel.close();
      } catch (IOException e) {
        LOG.debug("inbox log: closing {}", segment.file, e);
      }
    }
    segments.clear();
  }

  private static void writeFully(LogFiles.Channel channel, ByteBuffer buffer, long at) throws IOException {
    while (buffer.hasRemaining()) {
      at += channel.write(buffer, at);
    }
  }

  /** Reads the records of {@code segment}; returns where the valid ones end (a torn tail follows, if any). */
  private long scan(Segment segment, RecordConsumer consumer, boolean last, boolean repair) throws IOException {
    long offset = FILE_HEADER;
    ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER);
    while (offset < segment.size) {
      ByteBuffer entries = recordAt(segment, offset, header);
      if (entries == null) {
        long next = nextRecord(segment, offset + 1);
        if (next < 0 && last) {
          long length = segment.size - offset;
          if (length > RECORD_HEADER && length <= MAX_TAIL_SEARCH) {
            ByteBuffer tail = ByteBuffer.allocate((int) (length - RECORD_HEADER));
            readFully(segment, tail, offset + RECORD_HEADER);
            consumer.torn(tail.flip(), length);
          }
          return offset;
        }
        long end = next < 0 ? segment.size : next;
        if (!repair) {
          throw new IOException("inbox log: " + segment.file + " is damaged at offset " + offset + " ("
              + (end - offset) + " bytes up to " + (next < 0 ? "the end of the file" : "a valid record at offset " + next)
              + "); " + (next < 0 ? "later segments follow it" : "valid records follow it")
              + ", so this is not a write torn by a crash. Keep a copy of " + dir + ", then start once with"
              + " inbox.logRepair=true: the damaged bytes move to " + dir.resolve(QUARANTINE)
              + ", every valid record is kept, heads move past every seq the lost bytes could have held,"
              + " and clients are told of the loss with gap frames");
        }
        quarantine(segment, offset, end);
        consumer.damaged(segment.base + offset, end - offset);
        continue;
      }
      try {
        consumer.record(segment, segment.base + offset + RECORD_HEADER, entries);
      } catch (RuntimeException e) {
        throw new IOException("inbox log: " + segment.file + " at offset " + offset + ": " + e.getMessage(), e);
      }
      offset += RECORD_HEADER + entries.limit();
    }
    return offset;
  }

  /** The entries of the valid record at {@code offset}, or null if none is there. */
  private static ByteBuffer recordAt(Segment segment, long offset, ByteBuffer header) throws IOException {
    if (offset + RECORD_HEADER > segment.size) {
      return null;
    }
    header.clear();
    readFully(segment, header, offset);
    int length = header.getInt(0);
    if (length <= 0 || length > segment.size - offset - RECORD_HEADER) {
      return null;
    }
    ByteBuffer entries = ByteBuffer.allocate(length);
    readFully(segment, entries, offset + RECORD_HEADER);
    entries.flip();
    CRC32C crc = new CRC32C();
    crc.update(entries.duplicate());
    return (int) crc.getValue() == header.getInt(4) ? entries : null;
  }

  /**
   * The offset of the first valid record at or after {@code from}, or -1 if none: what tells a torn
   * tail (nothing valid after it) from damage. Reads the rest of the file once and tries every offset.
   */
  private static long nextRecord(Segment segment, long from) throws IOException {
    long rest = segment.size - from;
    if (rest < RECORD_HEADER) {
      return -1;
    }
    if (rest > MAX_TAIL_SEARCH) {
      // Too much to search; a torn write is never this long, so call it damage.
      return segment.size;
    }
    ByteBuffer tail = ByteBuffer.allocate((int) rest);
    readFully(segment, tail, from);
    CRC32C crc = new CRC32C();
    for (int i = 0; i + RECORD_HEADER <= tail.limit(); i++) {
      int length = tail.getInt(i);
      if (length < 5 || length > tail.limit() - i - RECORD_HEADER) {
        continue;
      }
      crc.reset();
      crc.update(tail.array(), i + RECORD_HEADER, length);
      if ((int) crc.getValue() == tail.getInt(i + 4)) {
        return from + i;
      }
    }
    return -1;
  }

  /** Copies damaged bytes to the quarantine directory, then puts a PAD record over them. */
  private void quarantine(Segment segment, long from, long end) throws IOException {
    long length = end - from;
    if (length < LogEntries.MIN_PAD_RECORD || length > Integer.MAX_VALUE) {
      throw new IOException("inbox log: " + segment.file + " is damaged at offset " + from + " (" + length
          + " bytes), which repair cannot cover with a padding record; restore the file from a backup");
    }
    ByteBuffer damaged = ByteBuffer.allocate((int) length);
    readFully(segment, damaged, from);
    Path quarantine = dir.resolve(QUARANTINE);
    files.createDirectories(quarantine);
    Path copy = quarantine.resolve(segment.file.getFileName() + "." + from + ".damaged");
    LogFiles.Channel out = null;
    for (int n = 1; out == null; n++) {
      try {
        out = files.create(copy);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // A repair stopped midway set these bytes aside already; keep that copy too.
        copy = quarantine.resolve(segment.file.getFileName() + "." + from + ".damaged." + n);
      }
    }
    try (LogFiles.Channel created = out) {
      writeFully(created, damaged.flip(), 0);
      created.force(true);
    }
    files.syncDirectory(quarantine);
    ByteBuffer entries = LogEntries.pad((int) length - RECORD_HEADER);
    writeFully(segment.channel, recordHeader(entries), from);
    writeFully(segment.channel, entries, from + RECORD_HEADER);
    segment.channel.force(true);
    LOG.warn("inbox log: repair moved {} damaged bytes at offset {} of {} to {}; the messages in them are lost"
        + " and will be reported to clients as gaps", length, from, segment.file, copy);
  }

  private static void writeHeader(Segment segment) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(FILE_HEADER).putInt(MAGIC).putInt(FORMAT_VERSION).flip();
    writeFully(segment.channel, header, 0);
    segment.size = FILE_HEADER;
    if (segment.written != null) {
      segment.written.update(header.rewind());
    }
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
}
