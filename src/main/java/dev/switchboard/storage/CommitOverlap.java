package dev.switchboard.storage;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * When the inbox may start a commit beside the commits that are running: once the youngest of them
 * has run {@link #PATIENCE} times the store's usual commit time (the median of its last
 * {@link #WINDOW} successful commits). A commit that ran that long waits for something (another
 * writer's row lock, a slow round trip), so the sends queued behind it go in a commit of their own;
 * a commit of usual length ends before that, and the next one takes every send that queued
 * meanwhile in one transaction, as when commits take turns, instead of splitting them into small
 * commits that cost more statements and syncs per send. The median rather than a mean, so that
 * commits held by locks do not teach it that holding is usual. Until a commit has been timed, it
 * may start at once. Plain arithmetic on the caller's clock; confined to one thread.
 */
final class CommitOverlap {

  /** How many of the latest commit times count. */
  static final int WINDOW = 32;
  /** How many usual commit times the youngest running commit has run before another starts beside it. */
  static final int PATIENCE = 2;

  private final LongSupplier nanoClock;
  private final long[] recent = new long[WINDOW];
  private int recorded;
  private long usualNanos;

  /** @param nanoClock what time it is, as {@link System#nanoTime()} tells it */
  CommitOverlap(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** A commit that started at {@code startedNanos} succeeded now. */
  void committed(long startedNanos) {
    recent[recorded % WINDOW] = nanoClock.getAsLong() - startedNanos;
    recorded++;
    long[] sorted = Arrays.copyOf(recent, Math.min(recorded, WINDOW));
    Arrays.sort(sorted);
    usualNanos = sorted[sorted.length / 2];
  }

  /** The store's usual commit time: the median of the latest ones; 0 before any. */
  long usualNanos() {
    return usualNanos;
  }

  /**
   * How long until a commit may start beside running ones, the youngest of which started at
   * {@code youngestStartedNanos}: 0 once it has run {@link #PATIENCE} usual commit times.
   */
  long waitNanos(long youngestStartedNanos) {
    long waited = nanoClock.getAsLong() - youngestStartedNanos;
    return Math.max(0, PATIENCE * usualNanos - waited);
  }
}
