package dev.switchboard.storage;

import java.util.Arrays;

/**
 * Tells which idempotency keys cannot have been stored within the window, so a batch of sends with
 * fresh keys (nearly all of them) skips the key lookup in the store. Two generations of a Bloom
 * filter: a key goes into the current one; every window (or second, if the window is shorter) the
 * current becomes the previous and the oldest is dropped, so a key stays in the filter for at least
 * the window. A "maybe" is checked
 * against the store; a "no" is certain.
 *
 * <p>Only for a store that is the sole writer of its keys (the embedded one): a key written by
 * another process would not be here.
 */
final class RecentSendKeys {

  /** 2^24 bits = 2 MiB per generation: about 4% false "maybe"s at 2.4 million keys in a window. */
  static final int BITS = 1 << 24;
  private static final int HASHES = 4;

  /** Turns every window, but at least a second apart, so a tiny window does not clear 2 MiB per call. */
  private final GenerationTimer generations;
  private final int mask;
  private long[] current;
  private long[] previous;

  RecentSendKeys(long windowMillis) {
    this(windowMillis, BITS);
  }

  RecentSendKeys(long windowMillis, int bits) {
    if (Integer.bitCount(bits) != 1 || bits < 64) {
      throw new IllegalArgumentException("bits must be a power of two >= 64: " + bits);
    }
    this.generations = new GenerationTimer(windowMillis);
    this.mask = bits - 1;
    this.current = new long[bits / 64];
    this.previous = new long[bits / 64];
  }

  /** Records {@code key} as stored at {@code now}; times should not run backwards by more than a window. */
  void add(AppendPlanner.SendKey key, long now) {
    rotate(now);
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
    rotate(now);
    long h = hash(key);
    int h1 = (int) h;
    int h2 = (int) (h >>> 32) | 1;
    return isSet(current, h1, h2) || isSet(previous, h1, h2);
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

  private void rotate(long now) {
    if (!generations.turn(now)) {
      return;
    }
    // What the previous generation holds was added at least a window ago: drop it.
    long[] recycled = previous;
    Arrays.fill(recycled, 0);
    previous = current;
    current = recycled;
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
