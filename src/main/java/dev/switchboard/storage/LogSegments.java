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
    /** Taken at start through ledgers without reading its index's summary: the background check reads it. */
    boolean summaryUnread;
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

    /**
     * What a run of sealed segments taken through their ledgers holds of each user, after every one of
     * them was handed to {@link #indexed} without its summary.
     */
    void sealedRuns(List<SealedRun> runs);
  }

  /**
   * A user's messages in a run of sealed segments taken through their ledgers: how many, a lower
   * bound of their lowest seq, the highest, and log positions bounding the segments holding them
   * ({@code from} may lie before the first that does).
   */
  record SealedRun(String user, long count, long firstSeq, long lastSeq, long from, long to) {
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

    @Override
    public void sealedRuns(List<SealedRun> runs) {
      throw new IllegalStateException("a segment being read has no ledger");
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
  /** Of those, the segments taken through ledgers, without reading their index's summary. */
  private int openedByLedger;
  /** Segments the last {@link #open} took from their index without reading a byte of them: to check later. */
  private final List<Segment> unread = new ArrayList<>();
  /** Why writes stopped (a failed sync), or null while the log takes writes. */
  private volatile String stopped;
  /**
   * The ledger of the newest sealed segment whose index holds one (what the next index chains from),
   * or null; touched only by the open and the index writes, one at a time.
   */
  private Ledger ledger;
  /** False only in tests that open the same log both ways: every summary is then read, as without ledgers. */
  private final boolean ledgers;

  LogSegments(Path dir, LogFiles files, boolean syncEachAppend) {
    this(dir, files, syncEachAppend, true);
  }

  /** With {@code ledgers} false a start never takes counts from ledgers (for tests comparing both ways). */
  LogSegments(Path dir, LogFiles files, boolean syncEachAppend, boolean ledgers) {
    this.dir = dir;
    this.files = files;
    this.syncEachAppend = syncEachAppend;
    this.ledgers = ledgers;
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
    FastStart fast = ledgers && !repair && checkLater && markers.isEmpty() && found.size() >= 2
        ? planFast(found, indexes, keysNotBefore) : null;
    List<Path> readAhead = new ArrayList<>();
    if (!repair && checkLater) {
      for (int i = 0; i + 1 < found.size() && (fast == null || i < fast.first()); i++) {
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
    // The ledger of the sealed segments read so far (their summaries or records), which indexes written
    // now chain from; null after one that could not be written.
    Ledger running = null;
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
        if (fast != null && i >= fast.first() && !last) {
          if (indexedSoFar) {
            takeThroughLedger(consumer, segment, fast, i, i == found.size() - 2);
            previous = segment;
            continue;
          }
          // A segment before the run was read record by record: the run's are taken as before.
          fast = null;
        }
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
            running = running == null ? Ledger.before(segment.base) : running;
            running.add(loaded.summary(), segment.base, segment.size, loaded.segmentCrc());
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
          int crc = SegmentIndex.segmentCrc(segment);
          Ledger chainFrom = running == null ? Ledger.before(segment.base) : running;
          SegmentIndex.Summary summary = SegmentIndex.write(files, segment, builder, crc, chainFrom);
          segment.indexed = summary != null;
          if (summary != null) {
            chainFrom.add(summary, segment.base, segment.size, crc);
          }
          running = summary == null ? null : chainFrom;
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
    Map.Entry<Long, Segment> newestSealed = active == null ? null : segments.lowerEntry(active.base);
    if (ledger == null && running != null && newestSealed != null && running.base() == newestSealed.getKey()) {
      ledger = running;
    }
  }

  /** What a start takes through ledgers: the sealed segments from {@code first} (in the list of segment files) to the newest sealed one. */
  private record FastStart(int first, SegmentIndex[] parts, List<SealedRun> runs, Ledger newest) {
  }

  private static long baseOf(Path segmentFile) {
    Matcher m = NAME.matcher(segmentFile.getFileName().toString());
    if (!m.matches()) {
      throw new IllegalArgumentException(segmentFile + " is not named like a segment");
    }
    return Long.parseLong(m.group(1));
  }

  /**
   * Plans a start that takes sealed segments through their ledgers: reads the header of every sealed
   * segment's index, finds the oldest segment {@code o} from which the newest sealed one's ledger
   * chain can be followed (its chain recomputed from the headers' bases, lengths and CRC-32Cs equals
   * the newest one's, starting at {@code o} or at {@code o}'s own ledger), and reads the two ledgers,
   * the summary of {@code o}, the state of the newest and the keys of those still in the window.
   * Segments before {@code o} are read through their summaries as without ledgers. Null, with the
   * reason logged, when any of it does not hold: the start then reads every summary.
   */
  private FastStart planFast(List<Path> found, Map<Long, Path> indexes, long keysNotBefore) {
    int n = found.size() - 2;
    long[] bases = new long[n + 2];
    for (int i = 0; i < bases.length; i++) {
      bases[i] = baseOf(found.get(i));
    }
    List<Path> paths = new ArrayList<>(n + 1);
    for (int i = 0; i <= n; i++) {
      Path index = indexes.get(bases[i]);
      if (index == null) {
        LOG.info("inbox log: {} has no index; reading every sealed segment's summary or records", found.get(i));
        return null;
      }
      paths.add(index);
    }
    SegmentIndex.Header[] headers = new SegmentIndex.Header[n + 1];
    try (IndexReads<SegmentIndex.HeaderRead> reads = new IndexReads<>(paths, f -> SegmentIndex.readHeader(files, f))) {
      for (int i = 0; i <= n; i++) {
        SegmentIndex.HeaderRead read = reads.take(paths.get(i));
        if (read.problem() != null) {
          LOG.info("inbox log: index {} cannot be used ({}); reading every sealed segment's summary", paths.get(i),
              read.problem());
          return null;
        }
        SegmentIndex.Header h = read.header();
        if (h.base() != bases[i] || h.length() != bases[i + 1] - bases[i]) {
          LOG.info("inbox log: index {} does not describe its segment; reading every sealed segment's summary",
              paths.get(i));
          return null;
        }
        headers[i] = h;
      }
    } catch (IOException e) {
      LOG.warn("inbox log: reading the index headers failed ({}); reading every sealed segment's summary", e.toString());
      return null;
    }
    Ledger newest;
    try {
      newest = SegmentIndex.readLedger(files, paths.get(n), headers[n]);
    } catch (IOException e) {
      LOG.warn("inbox log: {}; reading every sealed segment's summary instead", e.getMessage());
      return null;
    }
    long origin = headers[n].origin();
    for (int first = 0; first <= n; first++) {
      long chain;
      if (bases[first] == origin) {
        chain = Ledger.first(bases[first], headers[first].length(), headers[first].segmentCrc());
      } else if (headers[first].origin() == origin && origin < bases[first]) {
        chain = headers[first].chain();
      } else {
        continue;
      }
      for (int k = first + 1; k <= n; k++) {
        chain = Ledger.link(chain, bases[k], headers[k].length(), headers[k].segmentCrc());
      }
      if (chain != headers[n].chain()) {
        continue;
      }
      // The oldest segment the chain can be followed from; if its ledger or summary fails, the next one is tried
      // (the segments before it are then read through their summaries).
      try {
        Ledger atFirst = bases[first] == origin ? null : SegmentIndex.readLedger(files, paths.get(first), headers[first]);
        SegmentIndex[] parts = new SegmentIndex[n + 1 - first];
        String problem = null;
        for (int k = first; k <= n && problem == null; k++) {
          SegmentIndex.FileBytes read = SegmentIndex.readParts(files, paths.get(k), headers[k], k == first, k == n,
              keysNotBefore);
          if (read.problem() != null) {
            problem = "index " + paths.get(k) + " is not used: " + read.problem();
            if (k > first) {
              LOG.warn("inbox log: {}; reading every sealed segment's summary", problem);
              return null;
            }
          }
          parts[k - first] = read.index();
        }
        if (problem != null) {
          LOG.warn("inbox log: {}; taking it through its summary", problem);
          continue;
        }
        List<SealedRun> runs = runs(newest, atFirst, parts[0], bases[first]);
        if (runs == null) {
          LOG.warn("inbox log: the ledgers of {} and {} disagree with the summary of the first; reading every"
              + " sealed segment's summary", paths.get(first), paths.get(n));
          return null;
        }
        return new FastStart(first, parts, runs, newest);
      } catch (IOException e) {
        LOG.warn("inbox log: {}; taking {} through its summary", e.getMessage(), found.get(first));
      }
    }
    LOG.info("inbox log: the ledger of {} covers none of the sealed segments as they are; reading every sealed"
        + " segment's summary", paths.get(n));
    return null;
  }

  /**
   * Each user's messages in the segments from the one at {@code firstBase} (whose index is {@code first},
   * with its summary) to the newest sealed one (ledger {@code newest}): {@code C_n - C_o + count_o}, with
   * {@code atFirst} the ledger of the first, or null if the chain starts there. Null if they disagree.
   */
  private static List<SealedRun> runs(Ledger newest, Ledger atFirst, SegmentIndex first, long firstBase) {
    Map<String, long[]> inFirst = new HashMap<>();
    first.summaries((user, count, minSeq, maxSeq) -> inFirst.put(user, new long[] {count, minSeq, maxSeq}));
    List<SealedRun> runs = new ArrayList<>(newest.size());
    for (Map.Entry<String, long[]> e : newest.entries().entrySet()) {
      long[] v = e.getValue();
      long[] own = inFirst.get(e.getKey());
      long[] before = atFirst == null ? null : atFirst.get(e.getKey());
      if (own != null && atFirst != null && before == null) {
        return null;
      }
      long prior = before == null ? 0 : before[0] - (own == null ? 0 : own[0]);
      long count = v[0] - prior;
      if (prior < 0 || count < 0) {
        return null;
      }
      if (count == 0) {
        runs.add(new SealedRun(e.getKey(), 0, 0, v[1], 0, 0));
        continue;
      }
      // A lower bound when the first segment does not hold the user: every later seq of it is past the
      // highest one the first's ledger counted; UserLog.sealedGone takes a lower bound as the exact value.
      long firstSeq = own != null ? own[1] : before != null ? before[1] + 1 : 1;
      // Past the first segment the first one holding the user is not known: reads pass segments without it.
      long from = v[2] >= firstBase ? v[2] : firstBase;
      runs.add(new SealedRun(e.getKey(), count, firstSeq, v[1], from, v[3]));
    }
    for (String user : inFirst.keySet()) {
      if (newest.get(user) == null) {
        return null;
      }
    }
    return runs;
  }

  /** Takes the sealed {@code segment} (the {@code i}-th) through the ledgers planned; after the newest sealed one, hands over the runs. */
  private void takeThroughLedger(RecordConsumer consumer, Segment segment, FastStart fast, int i, boolean newestSealed)
      throws IOException {
    SegmentIndex part = fast.parts()[i - fast.first()];
    SegmentIndex.Header h = part.header();
    if (h.base() != segment.base || h.length() != segment.size) {
      throw new IOException("inbox log: " + segment.file + " is " + segment.size + " bytes where its index "
          + SegmentIndex.fileFor(segment.file) + " records " + h.length() + ": a segment file was changed or replaced."
          + " Move the index out of " + dir + " and start again to read the segment's records");
    }
    openedByIndex++;
    openedByLedger++;
    segment.indexed = true;
    segment.indexCrc = h.segmentCrc();
    segment.messages = part.messages();
    segment.summaryUnread = i > fast.first();
    unread.add(segment);
    try {
      consumer.indexed(segment, part.withoutSummary());
      if (newestSealed) {
        consumer.sealedRuns(fast.runs());
        ledger = fast.newest();
      }
    } catch (RuntimeException e) {
      throw new IOException("inbox log: " + segment.file + " (read through its ledger): " + e.getMessage(), e);
    }
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

  /** How many segments the open took through ledgers. */
  int openedByLedger() {
    return openedByLedger;
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
      sealed.indexed = writeIndex(sealed, sealed.indexBuilder, (int) sealed.written.getValue());
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
    sealed.indexed = writeIndex(sealed, builder, crc);
    return sealed.indexed;
  }

  /**
   * Writes the index of {@code sealed} with its ledger: the one of the segment before it plus its
   * summary when the newest ledger is that segment's, else the start of a new chain at it (the index
   * before it is missing, or was written later than this one's successor). The newest ledger moves on
   * only once the file is written.
   */
  private boolean writeIndex(Segment sealed, SegmentIndex.Builder builder, int crc) {
    Map.Entry<Long, Segment> before = segments.lowerEntry(sealed.base);
    boolean chained = ledger != null && before != null && ledger.base() == before.getKey();
    Ledger previous = chained ? ledger : Ledger.before(sealed.base);
    SegmentIndex.Summary summary = SegmentIndex.write(files, sealed, builder, crc, previous);
    if (summary == null) {
      return false;
    }
    if (chained || ledger == null || ledger.base() < sealed.base) {
      previous.add(summary, sealed.base, sealed.size, crc);
      ledger = previous;
    }
    return true;
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
