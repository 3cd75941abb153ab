package dev.switchboard.webhook;

import java.util.function.DoubleSupplier;

/**
 * How long to wait before the next attempt after {@code attempt} failures in a row: doubling from
 * {@code initialMillis} up to {@code maxMillis}, then a random point in its upper half, so that
 * a receiver that comes back is not hit by every retry at the same instant.
 */
final class Backoff {

  private final long initialMillis;
  private final long maxMillis;
  private final DoubleSupplier random;

  /** {@code random} returns values in [0, 1). */
  Backoff(long initialMillis, long maxMillis, DoubleSupplier random) {
    this.initialMillis = initialMillis;
    this.maxMillis = maxMillis;
    this.random = random;
  }

  /** The wait after the {@code attempt}-th failure in a row (1 for the first). */
  long delayMillis(int attempt) {
    long ceiling = initialMillis;
    for (int i = 1; i < attempt && ceiling < maxMillis; i++) {
      ceiling *= 2;
    }
    ceiling = Math.min(ceiling, maxMillis);
    return Math.max(1, ceiling / 2 + (long) (random.getAsDouble() * (ceiling - ceiling / 2)));
  }
}
