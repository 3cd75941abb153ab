package dev.switchboard.storage;

import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.StoredMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The index file of a sealed (no longer appended to) log segment: what a start needs from the
 * segment without parsing its records. It never holds anything the segment does not: a missing,
 * damaged or stale index (one whose recorded segment length or CRC-32C differs from the file's) is
 * not used, and the segment is read record by record instead, as it would be without an index.
 *
 * <pre>
 * header (92 bytes): "SBIX" version:int32 segmentBase:int64 segmentLength:int64 segmentCrc:int32
 *            newestMessage:int64 newestKey:int64 opened:int64 summaryBytes:int32 stateBytes:int32
 *            keyCount:int32 messageCount:int32 ledgerBytes:int32 origin:int64 chain:int64
 *            headerCrc:int32 (CRC-32C of the 88 bytes before it)
 * summary (summaryBytes):
 *   users:     count:int32, each a string (length:int32, UTF-8): the users with messages in the segment
 *   summaries: count:int32, each user:int32 messages:int32 minSeq:int64 maxSeq:int64, one per user with messages
 * summaryCrc:int32 of the header and the summary
 * state (stateBytes): the segment's checkpoint heads and the highest cursor of each device in it
 *   heads:     count:int32, each user (a string) lastSeq:int64
 *   cursors:   count:int32, each user device (strings) lastSeq:int64
 * stateCrc:int32 of the state
 * keys:      keyCount times position:int64 createdAt:int64 keyHash:int64 (of sender and key), in log order
 * keysCrc:int32 of the keys
 * pages:     one crc32c:int32 per {@link #PAGE_BYTES} of the messages section (the last page may be shorter)
 * pagesCrc:int32 of the pages
 * ledger (ledgerBytes): {@link Ledger}, the sums of the summaries from segment origin up to this one
 * ledgerCrc:int32 of the ledger
 * messages:  messageCount times userHash:int64 seq:int64 position:int64 time:int64 user:int32 crc:int32,
 *           sorted by (userHash, seq), so a binary search finds a user's first message past a seq; crc is
 *           {@link LogEntries#messageCrc} of the message's entry (and of the entry holding its body)
 * </pre>
 *
 * A start reads the header of every sealed segment's index; when the newest sealed one's ledger
 * chain covers the segments as they are ({@link Ledger}), only the ledgers of the oldest and newest,
 * the oldest's summary, the newest's state and the keys still inside the idempotency window; else
 * every summary (the state only of the newest sealed segment, as every checkpoint holds every inbox's
 * head and every cursor at least as high as any before it). Never the messages section: reads fetch
 * its pages on demand through {@link IndexPages}, each checked against its CRC-32C from the page
 * section, which the segment's first read loads. A user is its number in the users table; a hash
 * collision between two users is told apart by it. The per-message CRC lets a read through the index
 * refuse damaged bytes before the whole segment was checked against {@code segmentCrc} (a start may
 * trust the index and check the segment later).
 */
final class SegmentIndex {

  private static final Logger LOG = LoggerFactory.getLogger(SegmentIndex.class);

  /** "SBIX": a Switchboard segment index. */
  static final int MAGIC = 0x53424958;
  static final int VERSION = 5;
  static final String SUFFIX = ".idx";
  static final int MESSAGE_BYTES = 8 + 8 + 8 + 8 + 4 + 4;
  /** The unit of the messages section that has its own CRC-32C, and that {@link IndexPages} caches. */
  static final int PAGE_BYTES = 16 * 1024;
  private static final int KEY_BYTES = 8 + 8 + 8;
  private static final int SUMMARY_BYTES = 4 + 4 + 8 + 8;
  /** Where the header holds the CRC-32C of the whole segment. */
  private static final int SEGMENT_CRC_AT = 4 + 4 + 8 + 8;
  private static final int TIMES_AT = SEGMENT_CRC_AT + 4;
  private static final int COUNTS_AT = TIMES_AT + 24;
  /** Where the header holds the ledger's origin and chain. */
  private static final int LEDGER_AT = COUNTS_AT + 20;
  private static final int HEADER_CRC_AT = LEDGER_AT + 16;
  static final int HEADER = HEADER_CRC_AT + 4;
  /** Bytes read at a time when checking a segment's CRC-32C. */
  private static final int CHECK_CHUNK = 1 << 20;

  /** What a start takes from an index, in the order a replay of the segment would give it. */
  interface Visitor {
    void head(String user, long lastSeq);

    /** How many messages of {@code user} the segment holds, and their lowest and highest seq. */
    void summary(String user, int messages, long minSeq, long maxSeq);

    /** Keys come in log order; {@code hash} is {@link KeyPositions#hash} of the sender and key. */
    void sendKey(long hash, long position, long createdAt);

    void cursor(String user, String device, long seq);
  }

  /** The segment's times, as a replay of its records would set them. */
  record Times(long newestMessage, long newestKey, long opened) {
  }

  /**
   * Where an index file's messages section is and how many entries it holds, and the CRC-32C of each
   * of its pages: known when this process wrote the index, else read from the index's page section on
   * the first read that needs them (once; reads run on several workers), so a start reads none.
   */
  static final class Messages {
    private final long at;
    private final int count;
    /** Where the page CRC-32Cs lie in the index file, followed by their own CRC-32C; -1 if they are given. */
    private final long pagesAt;
    private int[] pageCrcs;

    /** A messages section whose page CRC-32Cs are known. */
    Messages(long at, int count, int[] pageCrcs) {
      this.at = at;
      this.count = count;
      this.pagesAt = -1;
      this.pageCrcs = pageCrcs;
    }

    /** A messages section whose page CRC-32Cs are read from {@code pagesAt} of the index when first needed. */
    Messages(long at, int count, long pagesAt) {
      this.at = at;
      this.count = count;
      this.pagesAt = pagesAt;
    }

    long at() {
      return at;
    }

    int count() {
      return count;
    }

    int pageCount() {
      return pages(count);
    }

    long bytes() {
      return (long) count * MESSAGE_BYTES;
    }

    /** Bytes in page {@code page} (the last one may be short). */
    int pageLength(long page) {
      return (int) Math.min(PAGE_BYTES, bytes() - page * PAGE_BYTES);
    }

    static int pages(int count) {
      return (int) (((long) count * MESSAGE_BYTES + PAGE_BYTES - 1) / PAGE_BYTES);
    }

    /**
     * The CRC-32C of each page, read from the index of {@code segment} the first time; a section that does
     * not match its own CRC-32C fails like a damaged page ({@link DamagedEntryException}), and is read again
     * next time rather than kept.
     */
    synchronized int[] pageCrcs(LogSegments.Segment segment, LogFiles files) throws IOException {
      if (pageCrcs != null) {
        return pageCrcs;
      }
      int pages = pageCount();
      ByteBuffer bytes = ByteBuffer.allocate(4 * pages + 4);
      LogFiles.Channel channel = segment.indexChannel(files);
      Path file = fileFor(segment.file);
      readFully(channel, bytes, pagesAt, file);
      CRC32C crc = new CRC32C();
      crc.update(bytes.array(), 0, 4 * pages);
      if ((int) crc.getValue() != bytes.getInt(4 * pages)) {
        throw new DamagedEntryException("the page CRC-32Cs of the messages section of its index " + file
            + " do not match their own CRC-32C");
      }
      int[] crcs = new int[pages];
      for (int p = 0; p < pages; p++) {
        crcs[p] = bytes.getInt(4 * p);
      }
      pageCrcs = crcs;
      return crcs;
    }
  }

  /** The fixed header, checked against its own CRC-32C, and where each section lies after it. */
  record Header(long base, long length, int segmentCrc, Times times, int summaryBytes, int stateBytes, int keyCount,
                int messageCount, int ledgerBytes, long origin, long chain) {
    long stateAt() {
      return HEADER + (long) summaryBytes + 4;
    }

    long keysAt() {
      return stateAt() + (long) stateBytes + 4;
    }

    /** Where the CRC-32C of each page of the messages section lies, then their own CRC-32C. */
    long pagesAt() {
      return keysAt() + (long) keyCount * KEY_BYTES + 4;
    }

    long ledgerAt() {
      return pagesAt() + 4L * Messages.pages(messageCount) + 4;
    }

    long messagesAt() {
      return ledgerAt() + (long) ledgerBytes + 4;
    }

    long fileSize() {
      return messagesAt() + (long) messageCount * MESSAGE_BYTES;
    }

    /** The header of {@code bytes}, or null with {@code why[0]} set if it is not a whole header of this version. */
    static Header of(ByteBuffer bytes, String[] why) {
      if (bytes.getInt(0) != MAGIC || bytes.getInt(4) != VERSION) {
        why[0] = "not an index of this version";
        return null;
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes.duplicate().position(0).limit(HEADER_CRC_AT));
      if ((int) crc.getValue() != bytes.getInt(HEADER_CRC_AT)) {
        why[0] = "its header does not match its own CRC-32C (damaged)";
        return null;
      }
      Header h = new Header(bytes.getLong(8), bytes.getLong(16), bytes.getInt(SEGMENT_CRC_AT),
          new Times(bytes.getLong(TIMES_AT), bytes.getLong(TIMES_AT + 8), bytes.getLong(TIMES_AT + 16)),
          bytes.getInt(COUNTS_AT), bytes.getInt(COUNTS_AT + 4), bytes.getInt(COUNTS_AT + 8), bytes.getInt(COUNTS_AT + 12),
          bytes.getInt(COUNTS_AT + 16), bytes.getLong(LEDGER_AT), bytes.getLong(LEDGER_AT + 8));
      if (h.summaryBytes < 0 || h.stateBytes < 0 || h.keyCount < 0 || h.messageCount < 0 || h.ledgerBytes < 4) {
        why[0] = "its header is malformed";
        return null;
      }
      return h;
    }
  }

  private final Header header;
  private final ByteBuffer summary;
  private final ByteBuffer state;
  private final ByteBuffer keys;
  private final String[] users;
  private final int summariesAt;
  private final Messages messages;

  /** {@code summary} is null for an index taken through a ledger (only its header, and its state or keys if read). */
  private SegmentIndex(Header header, ByteBuffer summary, ByteBuffer state, ByteBuffer keys) {
    this.header = header;
    this.summary = summary;
    this.state = state;
    this.keys = keys;
    if (summary == null) {
      users = new String[0];
      summariesAt = -1;
    } else {
      ByteBuffer in = summary.duplicate().position(HEADER);
      users = new String[in.getInt()];
      for (int i = 0; i < users.length; i++) {
        users[i] = LogEntries.string(in);
      }
      summariesAt = in.position();
      in.position(summariesAt + 4 + in.getInt(summariesAt) * SUMMARY_BYTES);
      if (in.position() != summary.limit()) {
        throw new IndexOutOfBoundsException("the summary holds " + (summary.limit() - in.position()) + " bytes more than it lists");
      }
    }
    messages = new Messages(header.messagesAt(), header.messageCount, header.pagesAt());
  }

  Header header() {
    return header;
  }

  /** The same index without its summary: what a start taking counts from ledgers hands over. */
  SegmentIndex withoutSummary() {
    return summary == null ? this : new SegmentIndex(header, null, state, keys);
  }

  /** The summary as arrays, for a ledger (empty without a summary). */
  Summary summary() {
    int n = summary == null ? 0 : summary.getInt(summariesAt);
    Summary out = new Summary(new String[n], new int[n], new long[n], new long[n]);
    int[] next = {0};
    summaries((user, count, minSeq, maxSeq) -> {
      int i = next[0]++;
      out.users()[i] = user;
      out.counts()[i] = count;
      out.minSeqs()[i] = minSeq;
      out.maxSeqs()[i] = maxSeq;
    });
    return out;
  }

  /** Each user with messages in the segment, with its count, lowest and highest seq; nothing without a summary. */
  void summaries(CountConsumer out) {
    if (summary == null) {
      return;
    }
    int summaries = summary.getInt(summariesAt);
    for (int i = 0; i < summaries; i++) {
      int at = summariesAt + 4 + i * SUMMARY_BYTES;
      out.accept(users[summary.getInt(at)], summary.getInt(at + 4), summary.getLong(at + 8), summary.getLong(at + 16));
    }
  }

  Times times() {
    return header.times;
  }

  /** The CRC-32C of the whole segment file when the index was made from it. */
  int segmentCrc() {
    return header.segmentCrc;
  }

  /** Where the messages section is, for reads through {@link IndexPages}. */
  Messages messages() {
    return messages;
  }

  /** True if the keys were read (they may still be inside the idempotency window). */
  boolean keysRead() {
    return keys != null;
  }

  /** The index file of the segment in {@code segmentFile} ({@code N.log} has {@code N.idx}). */
  static Path fileFor(Path segmentFile) {
    String name = segmentFile.getFileName().toString();
    return segmentFile.resolveSibling(name.substring(0, name.length() - ".log".length()) + SUFFIX);
  }

  /** 64 bits over every char of a user id (FNV-1a, then a finalizer). */
  static long userHash(String user) {
    return StableHash.finish(StableHash.add(StableHash.EMPTY, user));
  }

  /**
   * Hands the heads and cursors (if the state was read), every user summary and the keys (if they
   * were read) of the index to {@code visitor}: nothing per message.
   */
  void replay(Visitor visitor) {
    ByteBuffer st = state == null ? null : state.duplicate();
    if (st != null) {
      int heads = st.getInt();
      for (int i = 0; i < heads; i++) {
        visitor.head(LogEntries.string(st), st.getLong());
      }
    }
    summaries(visitor::summary);
    if (keys != null) {
      for (int at = 0; at < header.keyCount * KEY_BYTES; at += KEY_BYTES) {
        visitor.sendKey(keys.getLong(at + 16), keys.getLong(at), keys.getLong(at + 8));
      }
    }
    if (st != null) {
      int cursors = st.getInt();
      for (int i = 0; i < cursors; i++) {
        visitor.cursor(LogEntries.string(st), LogEntries.string(st), st.getLong());
      }
      if (st.hasRemaining()) {
        throw new IndexOutOfBoundsException("the state holds " + st.remaining() + " bytes more than it lists");
      }
    }
  }

  /** Walks the state, if it was read, so that a malformed one is found before anything is taken from the index. */
  private void checkState() {
    if (state == null) {
      return;
    }
    ByteBuffer st = state.duplicate();
    int heads = st.getInt();
    for (int i = 0; i < heads; i++) {
      LogEntries.string(st);
      st.getLong();
    }
    int cursors = st.getInt();
    for (int i = 0; i < cursors; i++) {
      LogEntries.string(st);
      LogEntries.string(st);
      st.getLong();
    }
    if (st.hasRemaining()) {
      throw new IndexOutOfBoundsException("the state holds " + st.remaining() + " bytes more than it lists");
    }
  }

  /** Receives index entries of one user hash in seq order, each with its message's CRC; false stops the walk. */
  interface EntryConsumer {
    boolean accept(long seq, long position, long time, int crc) throws IOException;
  }

  /** Where a user's messages stand in a sealed segment against a seq. */
  enum Holds {
    /** Messages past the seq start here. */
    PAST,
    /** Messages of the user are here, none past the seq. */
    NONE_PAST,
    /** No message of the user (of its hash) is here. */
    NOTHING
  }

  /**
   * One binary search of a sealed segment's messages section (through {@code pages}) for a user hash
   * and the first seq past a cursor: what the segment holds of the user, and the run to walk from there.
   */
  static final class Search {
    private final IndexPages pages;
    private final LogSegments.Segment segment;
    private final long hash;
    private final int count;
    private final int at;
    private final Holds holds;

    private Search(IndexPages pages, LogSegments.Segment segment, long hash, int count, int at) throws IOException {
      this.pages = pages;
      this.segment = segment;
      this.hash = hash;
      this.count = count;
      this.at = at;
      if (at < count && hashAt(at) == hash) {
        holds = Holds.PAST;
      } else if (at > 0 && hashAt(at - 1) == hash) {
        holds = Holds.NONE_PAST;
      } else {
        holds = Holds.NOTHING;
      }
    }

    Holds holds() {
      return holds;
    }

    private long hashAt(int i) throws IOException {
      return pages.getLong(segment, (long) i * MESSAGE_BYTES);
    }

    /** Hands the entries of the hash past the seq to {@code out}, oldest first, until it returns false. */
    void walk(EntryConsumer out) throws IOException {
      for (int i = at; i < count; i++) {
        long entry = (long) i * MESSAGE_BYTES;
        if (pages.getLong(segment, entry) != hash
            || !out.accept(pages.getLong(segment, entry + 8), pages.getLong(segment, entry + 16), pages.getLong(segment, entry + 24),
                pages.getInt(segment, entry + 36))) {
          return;
        }
      }
    }
  }

  /**
   * Searches the messages section of the sealed {@code segment}'s index for the entries whose user hash
   * is {@code hash} and whose seq is past {@code after}. A read that fails is thrown, never taken as
   * "no messages"; a page that does not match its CRC-32C fails it too.
   */
  static Search search(IndexPages pages, LogSegments.Segment segment, long hash, long after) throws IOException {
    Messages messages = segment.messages;
    if (messages == null) {
      throw new IOException(segment.file + " has no index to read (it was deleted, or its index never written)");
    }
    int count = messages.count();
    int lo = 0;
    int hi = count;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      long at = (long) mid * MESSAGE_BYTES;
      long h = pages.getLong(segment, at);
      if (h < hash || (h == hash && pages.getLong(segment, at + 8) <= after)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return new Search(pages, segment, hash, count, lo);
  }

  /** Receives a user's message count in a segment, and their lowest and highest seq. */
  interface CountConsumer {
    void accept(String user, int messages, long minSeq, long maxSeq);
  }

  /**
   * Reads the users and summaries of the index of {@code segment} from its file (the header and the
   * summary, checked against their CRC-32C): how many messages of each user leave the store when the
   * segment is deleted.
   */
  static void counts(LogFiles files, LogSegments.Segment segment, CountConsumer out) throws IOException {
    Path file = fileFor(segment.file);
    FileBytes read = readFile(files, file, Long.MAX_VALUE, false);
    if (read.problem() != null) {
      throw new IOException(file + " cannot be used: " + read.problem());
    }
    read.index().summaries(out);
  }

  /**
   * The index of {@code segment} if its file exists, its header and summary are whole, of this version,
   * and describe the segment as it is now (base and length, and with {@code crcs} also the CRC-32C of the
   * whole segment; without, the segment is not read and its CRC is for a later check to compare);
   * otherwise null, with the reason logged (a missing index only at DEBUG: it is how a log written
   * before indexes existed looks). Its keys are read only if its newest key is at or after
   * {@code keysNotBefore}: older ones are outside the idempotency window for good; its state (heads
   * and cursors) only {@code withState}.
   */
  static SegmentIndex load(LogFiles files, LogSegments.Segment segment, SegmentCrcs crcs, IndexReads<FileBytes> ahead,
                           long keysNotBefore, boolean withState) {
    Path file = fileFor(segment.file);
    FileBytes read;
    try {
      read = ahead != null ? ahead.take(file) : readFile(files, file, keysNotBefore, withState);
    } catch (NoSuchFileException e) {
      LOG.debug("inbox log: {} has no index; reading its records", segment.file);
      return null;
    } catch (IOException e) {
      LOG.warn("inbox log: cannot read index {} ({}); reading its segment instead", file, e.toString());
      return null;
    }
    if (read.problem() != null) {
      LOG.warn("inbox log: index {} is not used: {}; reading its segment instead and writing a new index", file,
          read.problem());
      return null;
    }
    Header header = read.index().header;
    String problem = null;
    if (header.base() != segment.base || header.length() != segment.size) {
      problem = "it describes a segment at position " + header.base() + " of " + header.length()
          + " bytes, not this one (" + segment.size + " bytes)";
    }
    if (problem == null && crcs != null) {
      try {
        problem = crcs.crc(segment.file) == header.segmentCrc() ? null
            : "the segment's CRC-32C differs from the one the index was made from";
      } catch (IOException e) {
        problem = "the segment could not be read to check it (" + e + ")";
      }
    }
    if (problem != null) {
      LOG.warn("inbox log: index {} is not used: {}; reading its segment instead and writing a new index", file, problem);
      return null;
    }
    return read.index();
  }

  /**
   * What a start reads of an index file, parsed where it was read (the users' ids decoded on the
   * reading thread): the index without its messages section, or the problem that makes it unusable
   * (not this version, a CRC-32C that fails, a size that does not match the header, malformed).
   */
  record FileBytes(SegmentIndex index, String problem) {
    static FileBytes unusable(String problem) {
      return new FileBytes(null, problem);
    }
  }

  /**
   * Reads the header and summary of an index file (its state if {@code withState}, its keys if its
   * newest key is at or after {@code keysNotBefore}), in one read after the header's, each part
   * checked against its CRC-32C; never its messages section. Thread-safe: a start reads several
   * ahead ({@link IndexReads}).
   */
  static FileBytes readFile(LogFiles files, Path file, long keysNotBefore, boolean withState) throws IOException {
    try (LogFiles.Channel channel = files.open(file)) {
      long size = channel.size();
      if (size < HEADER + 8) {
        return FileBytes.unusable("it is " + size + " bytes, shorter than an index");
      }
      ByteBuffer head = ByteBuffer.allocate(HEADER);
      readFully(channel, head, 0, file);
      String[] why = new String[1];
      Header header = Header.of(head, why);
      if (header == null) {
        return FileBytes.unusable(why[0]);
      }
      if (header.fileSize() != size) {
        return FileBytes.unusable("it is " + size + " bytes where its header makes " + header.fileSize()
            + " (truncated or damaged)");
      }
      boolean withKeys = header.keyCount() > 0 && header.times().newestKey() >= keysNotBefore;
      // One contiguous read: the state lies between the summary and the keys, so keys bring it along.
      long end = withKeys ? header.pagesAt() : withState ? header.keysAt() : header.stateAt();
      if (end > Integer.MAX_VALUE) {
        return FileBytes.unusable("its summary is larger than an index holds");
      }
      ByteBuffer bytes = ByteBuffer.allocate((int) end);
      bytes.put(head.flip());
      readFully(channel, bytes, HEADER, file);
      int summaryEnd = HEADER + header.summaryBytes();
      CRC32C crc = new CRC32C();
      crc.update(bytes.array(), 0, summaryEnd);
      if ((int) crc.getValue() != bytes.getInt(summaryEnd)) {
        return FileBytes.unusable("its summary does not match its own CRC-32C (damaged)");
      }
      ByteBuffer state = null;
      if (withState || withKeys) {
        int stateAt = (int) header.stateAt();
        crc.reset();
        crc.update(bytes.array(), stateAt, header.stateBytes());
        if ((int) crc.getValue() != bytes.getInt(stateAt + header.stateBytes())) {
          return FileBytes.unusable("its heads and cursors do not match their CRC-32C (damaged)");
        }
        state = withState ? ByteBuffer.wrap(bytes.array(), stateAt, header.stateBytes()).slice() : null;
      }
      ByteBuffer keys = null;
      if (withKeys) {
        int keysAt = (int) header.keysAt();
        int keyBytes = header.keyCount() * KEY_BYTES;
        crc.reset();
        crc.update(bytes.array(), keysAt, keyBytes);
        if ((int) crc.getValue() != bytes.getInt(keysAt + keyBytes)) {
          return FileBytes.unusable("its keys do not match their CRC-32C (damaged)");
        }
        keys = ByteBuffer.wrap(bytes.array(), keysAt, keyBytes).slice();
      }
      try {
        SegmentIndex index = new SegmentIndex(header, ByteBuffer.wrap(bytes.array(), 0, summaryEnd).slice(), state, keys);
        index.checkState();
        return new FileBytes(index, null);
      } catch (BufferUnderflowException | IndexOutOfBoundsException | IllegalArgumentException e) {
        return FileBytes.unusable("it is malformed (" + e + ")");
      }
    }
  }

  /** The checked header of an index file, or the problem that makes it unusable. */
  record HeaderRead(Header header, String problem) {
  }

  /**
   * Reads only the header of an index file and checks it (its CRC-32C, the version, the file's size
   * against it): what a start reads of every sealed segment's index when it can take counts from ledgers.
   */
  static HeaderRead readHeader(LogFiles files, Path file) throws IOException {
    try (LogFiles.Channel channel = files.open(file)) {
      long size = channel.size();
      if (size < HEADER + 8) {
        return new HeaderRead(null, "it is " + size + " bytes, shorter than an index");
      }
      ByteBuffer head = ByteBuffer.allocate(HEADER);
      readFully(channel, head, 0, file);
      String[] why = new String[1];
      Header header = Header.of(head, why);
      if (header == null) {
        return new HeaderRead(null, why[0]);
      }
      if (header.fileSize() != size) {
        return new HeaderRead(null, "it is " + size + " bytes where its header makes " + header.fileSize()
            + " (truncated or damaged)");
      }
      return new HeaderRead(header, null);
    }
  }

  /**
   * What is wrong with the header or summary of an index a start took through ledgers without reading
   * its summary, or null if both match their CRC-32C: the background check's, so that damage there is
   * found before a purge needs the summary.
   */
  static String damagedSummary(LogFiles files, Path file) throws IOException {
    HeaderRead header = readHeader(files, file);
    if (header.problem() != null) {
      return "its index " + file + " cannot be used: " + header.problem();
    }
    FileBytes read = readParts(files, file, header.header(), true, false, Long.MAX_VALUE);
    return read.problem() == null ? null : "its index " + file + " cannot be used: " + read.problem();
  }

  /** One section of an index file followed by its CRC-32C, or null if they do not match. */
  private static ByteBuffer section(LogFiles.Channel channel, Path file, long at, long length) throws IOException {
    if (length > Integer.MAX_VALUE - 4) {
      return null;
    }
    ByteBuffer bytes = ByteBuffer.allocate((int) length + 4);
    readFully(channel, bytes, at, file);
    CRC32C crc = new CRC32C();
    crc.update(bytes.array(), 0, (int) length);
    return (int) crc.getValue() == bytes.getInt((int) length) ? bytes.limit((int) length).position(0) : null;
  }

  /**
   * What a start taking counts from ledgers reads of an index whose header it checked: the summary only
   * {@code withSummary} (the oldest segment's), the state only {@code withState} (the newest sealed
   * one's), the keys only if its newest key is at or after {@code keysNotBefore}; each checked against its
   * CRC-32C, in separate reads, never the other sections.
   */
  static FileBytes readParts(LogFiles files, Path file, Header header, boolean withSummary, boolean withState,
                             long keysNotBefore) throws IOException {
    try (LogFiles.Channel channel = files.open(file)) {
      ByteBuffer summary = null;
      if (withSummary) {
        // The summary's CRC-32C covers the header too: read both, as the slow path does.
        summary = section(channel, file, 0, HEADER + (long) header.summaryBytes());
        if (summary == null) {
          return FileBytes.unusable("its summary does not match its own CRC-32C (damaged)");
        }
      }
      ByteBuffer state = null;
      if (withState) {
        state = section(channel, file, header.stateAt(), header.stateBytes());
        if (state == null) {
          return FileBytes.unusable("its heads and cursors do not match their CRC-32C (damaged)");
        }
      }
      ByteBuffer keys = null;
      if (header.keyCount() > 0 && header.times().newestKey() >= keysNotBefore) {
        keys = section(channel, file, header.keysAt(), (long) header.keyCount() * KEY_BYTES);
        if (keys == null) {
          return FileBytes.unusable("its keys do not match their CRC-32C (damaged)");
        }
      }
      try {
        SegmentIndex index = new SegmentIndex(header, summary == null ? null : summary.slice(), state, keys);
        index.checkState();
        return new FileBytes(index, null);
      } catch (BufferUnderflowException | IndexOutOfBoundsException | IllegalArgumentException e) {
        return FileBytes.unusable("it is malformed (" + e + ")");
      }
    }
  }

  /**
   * The ledger of an index whose header was checked; an {@link IOException} naming the file if it does
   * not match its CRC-32C or is malformed.
   */
  static Ledger readLedger(LogFiles files, Path file, Header header) throws IOException {
    try (LogFiles.Channel channel = files.open(file)) {
      ByteBuffer bytes = section(channel, file, header.ledgerAt(), header.ledgerBytes());
      if (bytes == null) {
        throw new IOException("the ledger of " + file + " does not match its CRC-32C (damaged)");
      }
      try {
        return Ledger.parse(bytes, header.origin(), header.base(), header.chain());
      } catch (BufferUnderflowException | IndexOutOfBoundsException | IllegalArgumentException e) {
        throw new IOException("the ledger of " + file + " is malformed (" + e + ")");
      }
    }
  }

  /** CRC-32C of the whole segment file, in one streaming pass. */
  static int segmentCrc(LogSegments.Segment segment) throws IOException {
    return crcOf(segment.channel, segment.size, segment.file);
  }

  /** CRC-32C of the first {@code size} bytes of a file, in one streaming pass. */
  static int crcOf(LogFiles.Channel channel, long size, Path file) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer chunk = ByteBuffer.allocateDirect((int) Math.min(CHECK_CHUNK, Math.max(1, size)));
    long at = 0;
    while (at < size) {
      chunk.clear().limit((int) Math.min(chunk.capacity(), size - at));
      readFully(channel, chunk, at, file);
      chunk.flip();
      at += chunk.remaining();
      crc.update(chunk);
    }
    return (int) crc.getValue();
  }

  private static void readFully(LogFiles.Channel channel, ByteBuffer buffer, long offset, Path file) throws IOException {
    long at = offset;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, at);
      if (n < 0) {
        throw new IOException(file + " ends at " + at);
      }
      at += n;
    }
  }

  /**
   * Collects what the index of one segment holds, either from the segment's records as they are
   * read (at start, when its index is missing or stale) or from each commit as it is appended (the
   * active segment), then writes the index file. Both ways feed the same entries in log order, so
   * they write the same bytes.
   */
  static final class Builder {
    /** Longs per message: seq, position, time, user number, CRC. */
    private static final int STRIDE = 5;
    private final Map<String, Integer> userNumbers = new HashMap<>();
    private final List<String> users = new ArrayList<>();
    private long[] messages = new long[STRIDE * 64];
    private int messageCount;
    private long[] keys = new long[3 * 64];
    private int keyCount;
    private final Map<Integer, Long> heads = new HashMap<>();
    private final Map<Integer, Map<String, Long>> cursors = new HashMap<>();
    private long newestMessage = Long.MIN_VALUE;
    private long newestKey = Long.MIN_VALUE;
    private long opened = Long.MAX_VALUE;

    /** The entries of a record read back from a segment. */
    void record(long entriesPosition, ByteBuffer entries) {
      LogEntries.replay(entries.duplicate(), new LogEntries.Visitor() {
        @Override
        public void message(String recipient, long seq, long ts, int offset) {
          Builder.this.message(recipient, seq, entriesPosition + offset, ts, LogEntries.messageCrc(entries, offset));
        }

        @Override
        public void sendKey(String sender, String key, long createdAt, int offset) {
          Builder.this.sendKey(KeyPositions.hash(sender, key), entriesPosition + offset, createdAt);
        }

        @Override
        public void cursor(String user, String device, long seq) {
          Builder.this.cursor(user, device, seq);
        }

        @Override
        public void head(String user, long lastSeq) {
          Builder.this.head(user, lastSeq);
        }
      });
    }

    /**
     * The entries of a commit just appended at {@code entriesPosition}, as {@link LogEntries#commit}
     * wrote them (messages, then keys, then cursor moves), without reading them back; {@code messageCrcs}
     * holds {@link LogEntries#messageCrc} of each message's entry in the buffer that was written.
     */
    void commit(long entriesPosition, List<StoredMessage> rows, int[] messageOffsets, int[] messageCrcs,
                List<AppendPlanner.NewSendKey> newKeys, int[] keyOffsets, long now, List<CursorUpdate> moves) {
      for (int i = 0; i < rows.size(); i++) {
        StoredMessage m = rows.get(i);
        message(m.to(), m.seq(), entriesPosition + messageOffsets[i], m.ts(), messageCrcs[i]);
      }
      for (int i = 0; i < newKeys.size(); i++) {
        AppendPlanner.SendKey k = newKeys.get(i).key();
        sendKey(KeyPositions.hash(k.sender(), k.key()), entriesPosition + keyOffsets[i], now);
      }
      for (CursorUpdate c : moves) {
        cursor(c.user(), c.device(), c.seq());
      }
    }

    private void message(String recipient, long seq, long position, long ts, int crc) {
      if (messageCount * STRIDE == messages.length) {
        messages = Arrays.copyOf(messages, messages.length * 2);
      }
      int at = messageCount++ * STRIDE;
      messages[at] = seq;
      messages[at + 1] = position;
      messages[at + 2] = ts;
      messages[at + 3] = user(recipient);
      messages[at + 4] = crc;
      newestMessage = Math.max(newestMessage, ts);
      opened = Math.min(opened, ts);
    }

    private void sendKey(long hash, long position, long createdAt) {
      if (keyCount * 3 == keys.length) {
        keys = Arrays.copyOf(keys, keys.length * 2);
      }
      keys[keyCount * 3] = position;
      keys[keyCount * 3 + 1] = createdAt;
      keys[keyCount * 3 + 2] = hash;
      keyCount++;
      newestKey = Math.max(newestKey, createdAt);
      opened = Math.min(opened, createdAt);
    }

    private void cursor(String user, String device, long seq) {
      cursors.computeIfAbsent(user(user), u -> new HashMap<>()).merge(device, seq, Math::max);
    }

    private void head(String user, long lastSeq) {
      heads.merge(user(user), lastSeq, Math::max);
    }

    private int user(String user) {
      Integer n = userNumbers.get(user);
      if (n == null) {
        n = users.size();
        userNumbers.put(user, n);
        users.add(user);
      }
      return n;
    }

    /**
     * The messages in index order, by (user hash, seq), messages of equal hash and seq in log order:
     * a stable radix sort by hash (messages come in log order, so each user's run is already in seq
     * order), and a sort by (seq, position) only of a run whose seqs do not rise (two users sharing
     * a hash, or a repaired segment's repeated seq).
     */
    private int[] order(long[] hashes) {
      int n = messageCount;
      int[] order = new int[n];
      int[] spare = new int[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      int[] counts = new int[257];
      for (int shift = 0; shift < 64; shift += 8) {
        Arrays.fill(counts, 0);
        for (int i = 0; i < n; i++) {
          counts[bucket(hashes[order[i]], shift) + 1]++;
        }
        for (int b = 0; b < 256; b++) {
          counts[b + 1] += counts[b];
        }
        for (int i = 0; i < n; i++) {
          int m = order[i];
          spare[counts[bucket(hashes[m], shift)]++] = m;
        }
        int[] t = order;
        order = spare;
        spare = t;
      }
      for (int from = 0; from < n; ) {
        int to = from + 1;
        boolean rising = true;
        while (to < n && hashes[order[to]] == hashes[order[from]]) {
          rising &= messages[order[to] * STRIDE] >= messages[order[to - 1] * STRIDE];
          to++;
        }
        if (!rising) {
          Integer[] run = new Integer[to - from];
          for (int i = from; i < to; i++) {
            run[i - from] = order[i];
          }
          Arrays.sort(run, (a, b) -> {
            int bySeq = Long.compare(messages[a * STRIDE], messages[b * STRIDE]);
            return bySeq != 0 ? bySeq : Long.compare(messages[a * STRIDE + 1], messages[b * STRIDE + 1]);
          });
          for (int i = from; i < to; i++) {
            order[i] = run[i - from];
          }
        }
        from = to;
      }
      return order;
    }

    /** Byte {@code shift / 8} of a hash, as an unsigned digit of its signed order. */
    private static int bucket(long hash, int shift) {
      return (int) (((hash ^ Long.MIN_VALUE) >>> shift) & 0xff);
    }

    /** The heads and cursors section: user ids and devices as strings, so the summary need not name them. */
    private ByteBuffer state() {
      List<byte[]> strings = new ArrayList<>();
      long size = 4 + 4;
      for (Map.Entry<Integer, Long> head : heads.entrySet()) {
        byte[] u = users.get(head.getKey()).getBytes(StandardCharsets.UTF_8);
        strings.add(u);
        size += 4 + u.length + 8;
      }
      int cursorCount = 0;
      for (Map.Entry<Integer, Map<String, Long>> user : cursors.entrySet()) {
        byte[] u = users.get(user.getKey()).getBytes(StandardCharsets.UTF_8);
        for (String device : user.getValue().keySet()) {
          byte[] d = device.getBytes(StandardCharsets.UTF_8);
          strings.add(u);
          strings.add(d);
          size += 4 + u.length + 4 + d.length + 8;
          cursorCount++;
        }
      }
      if (size > Integer.MAX_VALUE) {
        throw new IllegalStateException("the heads and cursors of one segment exceed what an index holds");
      }
      ByteBuffer out = ByteBuffer.allocate((int) size);
      int[] next = {0};
      out.putInt(heads.size());
      heads.forEach((user, seq) -> {
        byte[] u = strings.get(next[0]++);
        out.putInt(u.length).put(u).putLong(seq);
      });
      out.putInt(cursorCount);
      cursors.forEach((user, devices) -> devices.forEach((device, seq) -> {
        byte[] u = strings.get(next[0]++);
        byte[] d = strings.get(next[0]++);
        out.putInt(u.length).put(u).putInt(d.length).put(d).putLong(seq);
      }));
      return out.flip();
    }

    /**
     * The index bytes for {@code segment}, whose whole file has CRC-32C {@code segmentCrc}, with the ledger
     * {@code previous} (of the segment before it, or empty to start a chain) plus this segment's summary;
     * where its messages are, and its summary for the caller's ledger.
     */
    Written bytes(LogSegments.Segment segment, int segmentCrc, Ledger previous) throws IOException {
      long[] userHashes = new long[users.size()];
      for (int u = 0; u < userHashes.length; u++) {
        userHashes[u] = userHash(users.get(u));
      }
      long[] hashes = new long[messageCount];
      for (int i = 0; i < messageCount; i++) {
        hashes[i] = userHashes[(int) messages[i * STRIDE + 3]];
      }
      int[] order = order(hashes);
      int[] counts = new int[users.size()];
      long[] minSeqs = new long[users.size()];
      long[] maxSeqs = new long[users.size()];
      int summaries = 0;
      for (int i : order) {
        int user = (int) messages[i * STRIDE + 3];
        long seq = messages[i * STRIDE];
        if (counts[user]++ == 0) {
          summaries++;
          minSeqs[user] = seq;
        }
        maxSeqs[user] = Math.max(maxSeqs[user], seq);
      }
      int pages = Messages.pages(messageCount);
      // The summary names only the users with messages here, numbered in the order they came.
      int[] numbers = new int[users.size()];
      List<byte[]> userBytes = new ArrayList<>(summaries);
      Summary summary = new Summary(new String[summaries], new int[summaries], new long[summaries], new long[summaries]);
      long summaryBytes = 4 + 4 + (long) summaries * SUMMARY_BYTES;
      for (int u = 0; u < users.size(); u++) {
        if (counts[u] > 0) {
          int n = userBytes.size();
          numbers[u] = n;
          summary.users()[n] = users.get(u);
          summary.counts()[n] = counts[u];
          summary.minSeqs()[n] = minSeqs[u];
          summary.maxSeqs()[n] = maxSeqs[u];
          byte[] b = users.get(u).getBytes(StandardCharsets.UTF_8);
          userBytes.add(b);
          summaryBytes += 4 + b.length;
        }
      }
      ByteBuffer state = state();
      ByteBuffer ledger = previous.bytesWith(summary, segment.base);
      long size = HEADER + summaryBytes + 4 + state.limit() + 4 + keyCount * (long) KEY_BYTES + 4 + 4L * pages + 4
          + ledger.limit() + 4 + (long) messageCount * MESSAGE_BYTES;
      if (size > Integer.MAX_VALUE) {
        throw new IOException("the index of " + segment.file + " would be " + size + " bytes, more than an index holds");
      }
      ByteBuffer out = ByteBuffer.allocate((int) size);
      out.putInt(MAGIC).putInt(VERSION).putLong(segment.base).putLong(segment.size).putInt(segmentCrc)
          .putLong(newestMessage).putLong(newestKey).putLong(opened)
          .putInt((int) summaryBytes).putInt(state.limit()).putInt(keyCount).putInt(messageCount).putInt(ledger.limit())
          .putLong(previous.base() < 0 ? segment.base : previous.origin())
          .putLong(previous.chainWith(segment.base, segment.size, segmentCrc));
      CRC32C crc = new CRC32C();
      crc.update(out.array(), 0, HEADER_CRC_AT);
      out.putInt((int) crc.getValue());
      out.putInt(userBytes.size());
      userBytes.forEach(b -> out.putInt(b.length).put(b));
      out.putInt(summaries);
      for (int user = 0; user < counts.length; user++) {
        if (counts[user] > 0) {
          out.putInt(numbers[user]).putInt(counts[user]).putLong(minSeqs[user]).putLong(maxSeqs[user]);
        }
      }
      int summaryEnd = out.position();
      int stateAt = summaryEnd + 4;
      int keysAt = stateAt + state.limit() + 4;
      int pageCrcsAt = keysAt + keyCount * KEY_BYTES + 4;
      int ledgerAt = pageCrcsAt + 4 * pages + 4;
      int messagesAt = ledgerAt + ledger.limit() + 4;
      out.position(messagesAt);
      for (int i : order) {
        int at = i * STRIDE;
        out.putLong(hashes[i]).putLong(messages[at]).putLong(messages[at + 1]).putLong(messages[at + 2])
            .putInt(numbers[(int) messages[at + 3]]).putInt((int) messages[at + 4]);
      }
      int[] pageCrcs = new int[pages];
      for (int p = 0; p < pages; p++) {
        crc.reset();
        int from = messagesAt + p * PAGE_BYTES;
        crc.update(out.array(), from, Math.min(PAGE_BYTES, out.position() - from));
        pageCrcs[p] = (int) crc.getValue();
        out.putInt(pageCrcsAt + 4 * p, pageCrcs[p]);
      }
      crc.reset();
      crc.update(out.array(), pageCrcsAt, 4 * pages);
      out.putInt(pageCrcsAt + 4 * pages, (int) crc.getValue());
      out.position(ledgerAt);
      out.put(ledger.duplicate());
      crc.reset();
      crc.update(ledger.duplicate());
      out.putInt((int) crc.getValue());
      crc.reset();
      crc.update(out.array(), 0, summaryEnd);
      out.putInt(summaryEnd, (int) crc.getValue());
      out.position(stateAt);
      out.put(state.duplicate());
      crc.reset();
      crc.update(state.duplicate());
      out.putInt((int) crc.getValue());
      for (int i = 0; i < keyCount * 3; i++) {
        out.putLong(keys[i]);
      }
      crc.reset();
      crc.update(out.array(), keysAt, keyCount * KEY_BYTES);
      out.putInt((int) crc.getValue());
      return new Written(out.position(0).limit((int) size), new Messages(messagesAt, messageCount, pageCrcs), summary);
    }
  }

  /** An index file's bytes, where its messages section is in them, and its summary (for the next ledger). */
  record Written(ByteBuffer bytes, Messages messages, Summary summary) {
  }

  /** Per user with messages in a segment (the users in the order they came): count, lowest and highest seq. */
  record Summary(String[] users, int[] counts, long[] minSeqs, long[] maxSeqs) {
  }

  /**
   * Writes the index of {@code segment} the safe way: a temporary file, written and synced, renamed,
   * the directory synced. An index is only ever a shortcut, so a failure is logged and the temporary
   * file removed; the next start reads the segment's records instead. Returns the segment's summary,
   * or null if the index was not written.
   */
  static Summary write(LogFiles files, LogSegments.Segment segment, Builder builder, int segmentCrc, Ledger previous) {
    Path file = fileFor(segment.file);
    Path temp = file.resolveSibling(file.getFileName() + LogSegments.TEMP_SUFFIX);
    LogFiles.Channel channel = null;
    try {
      Written written = builder.bytes(segment, segmentCrc, previous);
      ByteBuffer bytes = written.bytes();
      files.delete(temp);
      channel = files.create(temp);
      long at = 0;
      while (bytes.hasRemaining()) {
        at += channel.write(bytes, at);
      }
      channel.force(true);
      channel.close();
      channel = null;
      // A stale index of the same name goes first: the seam's rename never replaces a file.
      files.delete(file);
      files.rename(temp, file);
      files.syncDirectory(file.getParent());
      segment.messages = written.messages();
      return written.summary();
    } catch (IOException | RuntimeException e) {
      LOG.warn("inbox log: could not write the index of {} ({}); the next start reads its records instead",
          segment.file, e.toString());
      try {
        if (channel != null) {
          channel.close();
        }
        files.delete(temp);
      } catch (IOException cleanup) {
        LOG.debug("inbox log: removing {}", temp, cleanup);
      }
      return null;
    }
  }
}
