package dev.switchboard.storage;

import java.util.Arrays;

/**
 * Tells which idempotency keys cannot have been stored within the window, so a batch of sends with
 * fresh keys (nearly all of them) skips the key lookup in the store: a Bloom filter in two
 * {@link Generations}, so a key stays in it for at least the window. A "maybe" is checked against
 * the store; a "no" is certain.
 *
 * <p>Only for a store that is the sole writer of its keys (the embedded one): a key written by
 * another process would not be here.
 */
final class RecentSendKeys {

  /** Bits per generation: enough that a busy window's keys rarely cost a needless lookup. */
  static final int BITS = 1 << 24;
  private static final int HASHES = 4;

  private final Generations<long[]> generations;
  private final int mask;

  RecentSendKeys(long windowMillis) {
    this(windowMillis, BITS);
  }

  RecentSendKeys(long windowMillis, int bits) {
    if (Integer.bitCount(bits) != 1 || bits < 64) {
      throw new IllegalArgumentException("bits must be a power of two >= 64: " + bits);
    }
    this.generations = new Generations<>(windowMillis, new long[bits / 64], new long[bits / 64], RecentSendKeys::cleared);
    this.mask = bits - 1;
  }

  /** Records {@code key} as stored at {@code now}; times should not run backwards by more than a window. */
  void add(AppendPlanner.SendKey key, long now) {
    long[] current = generations.current(now);
    long h = hash(key);
    int h1 = (int) h;
    int h2 = (int) (h >>> 32) | 1;
    for (int i = 0; i < HASHES; i++) {
      int bit = (h1 + i * h2) & mask;
      current[bit >>> 6] |= 1L << bit;
    }
  }

  /** False only if {@code key} was not added within the last window. */
  boolean mayContain(AppendPlanner.SendKey key, long now) {
    long[] current = generations.current(now);
    long h = hash(key);
    int h1 = (int) h;
    int h2 = (int) (h >>> 32) | 1;
    return isSet(current, h1, h2) || isSet(generations.previous(), h1, h2);
  }

  private boolean isSet(long[] filter, int h1, int h2) {
    for (int i = 0; i < HASHES; i++) {
      int bit = (h1 + i * h2) & mask;
      if ((filter[bit >>> 6] & (1L << bit)) == 0) {
        return false;
      }
    }
    return true;
  }

  /** The dropped generation's keys were added at least a window ago: its array is reused, cleared. */
  private static long[] cleared(long[] dropped) {
    Arrays.fill(dropped, 0);
    return dropped;
  }

  /**
   * 64 bits from the two strings' hash codes (cached by {@link String}, and computed anyway for the
   * planner's maps), spread by a finalizer so that every input bit moves every output bit. Two keys
   * that collide only cost a lookup.
   */
  private static long hash(AppendPlanner.SendKey key) {
    long h = ((long) key.sender().hashCode() << 32) ^ (key.key().hashCode() & 0xFFFF_FFFFL);
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
