package dev.switchboard.storage;

import java.util.Arrays;

/**
 * One inbox of the log engine, in memory: its head, how many of its messages are in sealed segments
 * with an index file (found through those files, nothing per message here), and, for each message
 * in the tail of the log (the active segment, and a sealed one until its index is written), where
 * it sits and when it was sent. Tail seqs follow the sealed ones, so a read before the tail goes to
 * the index files. Seqs of an inbox have no holes, so the tail message with seq {@code s} is entry
 * {@code s - firstSeq}; 16 bytes per tail message. Only a repair makes
 * holes (messages lost with damaged bytes, heads moved past them): a hole up to {@link #MAX_HOLE}
 * seqs is kept as entries with no position, which reads skip, so older messages stay readable.
 */
final class UserLog {

  /** Largest run of lost seqs kept as empty entries; past it the stored run starts afresh. */
  static final long MAX_HOLE = 1 << 16;
  private static final long NO_POSITION = -1;

  private long lastSeq;
  /** Messages in indexed sealed segments not yet deleted; they count against the cap until their segment goes. */
  private long sealed;
  /**
   * The lowest seq counted in {@link #sealed}: those below left already. The counted seqs are one
   * run from it (holes of a repair aside), as a tail message leaving by age takes every sealed one with it.
   */
  private long sealedFirst;
  /**
   * Log positions that bound the indexed sealed segments holding the counted messages: the first
   * such segment holds {@link #sealedFrom} (or lies after it, once older ones expired), the last
   * holds {@link #sealedTo}; reads search no segment outside them.
   */
  private long sealedFrom;
  private long sealedTo;
  /** Entries of {@link #positions} that are holes (no message), not counted as stored. */
  private int holes;
  /** Seq of the oldest stored message (entry {@link #start}); meaningless while {@link #size} is 0. */
  private long firstSeq;
  private static final long[] NONE = new long[0];

  /** Empty until the first message: most inboxes in memory hold only a head. */
  private long[] positions = NONE;
  private long[] times = NONE;
  private int start;
  private int size;

  long lastSeq() {
    return lastSeq;
  }

  /** Messages stored (and counted against the inbox cap). */
  long stored() {
    return sealed + size - holes;
  }

  /** Entries held in the heap (tail messages and holes). */
  int tailEntries() {
    return size;
  }

  /** True if messages past {@code after} may sit in indexed sealed segments, before the tail. */
  boolean readsIndex(long after) {
    return sealed > 0 && (size == 0 || after + 1 < firstSeq);
  }

  /** A log position in the oldest indexed sealed segment that may hold counted messages (see {@link #readsIndex}). */
  long sealedFrom() {
    return sealedFrom;
  }

  /** A log position in the newest indexed sealed segment that holds counted messages. */
  long sealedTo() {
    return sealedTo;
  }

  /**
   * Messages of the indexed sealed segment starting at log position {@code segmentBase}, taken from
   * its summary at open: counted, and the head raised to the newest, with no entry kept.
   */
  void addSealed(int count, long minSeq, long maxSeq, long segmentBase) {
    addSealedRun(count, minSeq, maxSeq, segmentBase, segmentBase);
  }

  /**
   * Messages of a run of indexed sealed segments taken at open from their ledgers: {@code count} of
   * them, in segments from the one holding log position {@code from} (or after it) to the one at
   * {@code to}, the head raised to {@code maxSeq}. {@code firstSeq} may be below the lowest of them: a
   * lower bound is enough, as {@link #sealedGone} only takes seqs at or past it as still counted, and every
   * counted seq is.
   */
  void addSealedRun(long count, long firstSeq, long maxSeq, long from, long to) {
    // At open, the tail may still hold messages of older segments (read from their records), sealed after.
    sealedFirst = sealed == 0 ? firstSeq : Math.min(sealedFirst, firstSeq);
    sealedFrom = sealed == 0 ? from : Math.min(sealedFrom, from);
    sealedTo = sealed == 0 ? to : Math.max(sealedTo, to);
    sealed += count;
    lastSeq = Math.max(lastSeq, maxSeq);
  }

  /**
   * Moves the tail messages at log positions below {@code position} (their segment's index is now
   * written) out of the heap, still counted; holes among them go too. Returns how many moved.
   */
  int sealBelow(long position) {
    int moved = 0;
    while (size > 0 && (positions[start] == NO_POSITION || positions[start] < position)) {
      if (positions[start] == NO_POSITION) {
        holes--;
      } else {
        long at = positions[start];
        boolean none = sealed + moved == 0;
        // At open, messages of indexed segments after these may be counted already: bounds only widen.
        sealedFirst = none ? firstSeq : Math.min(sealedFirst, firstSeq);
        sealedFrom = none ? at : Math.min(sealedFrom, at);
        sealedTo = none ? at : Math.max(sealedTo, at);
        moved++;
      }
      start++;
      size--;
      firstSeq++;
    }
    sealed += moved;
    if (size == 0) {
      start = 0;
      positions = NONE;
      times = NONE;
    }
    return moved;
  }

  /**
   * A sealed segment holding {@code count} of this inbox's messages, seqs {@code minSeq} to
   * {@code maxSeq}, expired: those still counted leave the count (the ones below {@link #sealedFirst}
   * already left by age, before the segment was sealed). Returns how many left.
   */
  long sealedGone(int count, long minSeq, long maxSeq) {
    if (sealed == 0 || maxSeq < sealedFirst) {
      return 0;
    }
    long gone = Math.min(sealed, Math.max(0, count - Math.max(0, sealedFirst - minSeq)));
    sealed -= gone;
    sealedFirst = maxSeq + 1;
    return gone;
  }

  InboxHead head() {
    return new InboxHead(lastSeq, stored());
  }

  /**
   * Records a message at the end; its seq must be past {@link #lastSeq}. Seqs skipped (lost to a
   * repair) become holes; more than {@link #MAX_HOLE} of them start the stored run afresh.
   */
  void add(long seq, long position, long time) {
    if (seq <= lastSeq) {
      throw new IllegalArgumentException("seq " + seq + " is not past the head " + lastSeq);
    }
    if (size > 0 && seq - (firstSeq + size) > MAX_HOLE) {
      start = 0;
      size = 0;
      holes = 0;
    }
    if (size == 0) {
      firstSeq = seq;
      start = 0;
    }
    while (firstSeq + size < seq) {
      append(NO_POSITION, time);
      holes++;
    }
    append(position, time);
    lastSeq = Math.max(lastSeq, seq);
  }

  private void append(long position, long time) {
    if (start + size == positions.length) {
      grow();
    }
    positions[start + size] = position;
    times[start + size] = time;
    size++;
  }

  /** Raises the head without a stored message (a checkpoint of an inbox whose messages are all gone). */
  void advanceTo(long seq) {
    lastSeq = Math.max(lastSeq, seq);
  }

  /**
   * Drops the oldest tail messages sent before {@code cutoff}; returns how many went. Messages in
   * indexed sealed segments leave with their segment ({@link #sealedGone}), or all at once here when
   * a tail message expires: they are older, so the count they leave is then one run of seqs again.
   */
  long dropOlderThan(long cutoff) {
    long dropped = 0;
    while (size > 0 && times[start] < cutoff) {
      if (positions[start] == NO_POSITION) {
        holes--;
      } else {
        dropped++;
      }
      start++;
      size--;
      firstSeq++;
    }
    if (dropped > 0 && sealed > 0) {
      dropped += sealed;
      sealed = 0;
    }
    if (size == 0) {
      // An inbox nobody writes to any more keeps only its head.
      start = 0;
      positions = NONE;
      times = NONE;
    }
    return dropped;
  }

  /**
   * Positions of up to {@code limit} tail messages after seq {@code after}, oldest first, skipping those
   * sent before {@code notBefore}; their seqs go into {@code seqs}.
   */
  int positionsAfter(long after, long notBefore, int limit, long[] outPositions, long[] outSeqs) {
    int n = 0;
    long from = Math.max(after + 1, firstSeq);
    for (long seq = from; seq < firstSeq + size && n < limit; seq++) {
      int i = start + (int) (seq - firstSeq);
      if (times[i] >= notBefore && positions[i] != NO_POSITION) {
        outPositions[n] = positions[i];
        outSeqs[n] = seq;
        n++;
      }
    }
    return n;
  }

  private void grow() {
    if (start > positions.length / 2) {
      // Mostly dropped at the front: move the live part down instead of growing.
      System.arraycopy(positions, start, positions, 0, size);
      System.arraycopy(times, start, times, 0, size);
      start = 0;
      return;
    }
    int capacity = Math.max(4, positions.length * 2);
    positions = Arrays.copyOf(positions, capacity);
    times = Arrays.copyOf(times, capacity);
  }
}
