package dev.switchboard.routing;

/**
 * How fast the store takes requests while it is kept busy: the time between two of its answers,
 * smoothed over the last few. Only intervals in which every request slot was taken count, so an
 * idle store (which answers only as often as it is fed) never looks slow. Waits are counted in
 * requests, not copies, because a commit's cost is mostly per commit (a sync, a round trip):
 * counted per copy, a store fed small batches would look slower than it is. Plain arithmetic on
 * the caller's clock; confined to one thread.
 */
final class DrainRate {

  /** Weight of the newest interval: about the last five answers decide. */
  private static final double WEIGHT = 0.2;

  private long lastAnswerNanos = -1;
  private boolean busySinceLastAnswer;
  private double nanosPerRequest;

  /** Every request slot is taken now: the store is the bottleneck until its next answer. */
  void busy() {
    busySinceLastAnswer = true;
  }

  /** The store answered a request at {@code nowNanos}. */
  void answered(long nowNanos) {
    if (busySinceLastAnswer && lastAnswerNanos >= 0) {
      double sample = nowNanos - lastAnswerNanos;
      nanosPerRequest = nanosPerRequest == 0 ? sample : nanosPerRequest + WEIGHT * (sample - nanosPerRequest);
    }
    lastAnswerNanos = nowNanos;
    busySinceLastAnswer = false;
  }

  /** How long the store takes to answer {@code requests} at the current rate: one interval each; 0 while unknown. */
  long nanosFor(long requests) {
    return (long) (requests * nanosPerRequest);
  }
}
