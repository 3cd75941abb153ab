package dev.switchboard.storage;

import java.util.function.LongConsumer;

/**
 * Where the log engine wrote each idempotency key of the window: a hash of (sender, key) -> the
 * position of the key's entry, packed into 8 bytes a slot (28 bits of the hash, 36 bits of the
 * position counted from the generation's first), tables at most half full: 16-32 bytes per key.
 * Several keys may share those hash bits, so a lookup yields every candidate and the caller reads
 * each entry to compare; a key is never missed. Two {@link Generations}: a key stays at least a
 * window, and dropping the older generation is what forgets expired keys. A generation also turns
 * early once the log has grown past what its slots' positions can span, so a position never wraps.
 */
final class KeyPositions {

  private static final int POSITION_BITS = 36;
  private static final long POSITION_MASK = (1L << POSITION_BITS) - 1;

  private final Generations<Table> generations;

  KeyPositions(long windowMillis) {
    this.generations = new Generations<>(windowMillis, new Table(), new Table(), dropped -> new Table());
  }

  /** Records a key's entry; positions must not decrease. */
  void add(long hash, long position, long now) {
    Table current = generations.current(now);
    if (!current.fits(position)) {
      generations.turn();
      current = generations.current(now);
    }
    current.put(hashBits(hash), position);
  }

  /** Every position recorded under {@code hash} within (at least) the last window. */
  void candidates(long hash, long now, LongConsumer out) {
    Table current = generations.current(now);
    int bits = hashBits(hash);
    current.forEach(bits, out);
    generations.previous().forEach(bits, out);
  }

  private static int hashBits(long hash) {
    return (int) (hash >>> POSITION_BITS);
  }

  /** A {@link StableHash} of both strings, with a separator between them. */
  static long hash(String sender, String key) {
    long h = StableHash.add(StableHash.EMPTY, sender);
    h = StableHash.add(h, 0x10000); // never a char, so ("ab", "c") and ("a", "bc") differ
    return StableHash.finish(StableHash.add(h, key));
  }

  /**
   * Open addressing with linear probing over packed slots (0 = empty; a position is stored plus
   * one, so no slot is 0); equal hash bits take separate slots. No removal.
   */
  private static final class Table {
    private long base = -1;
    private long[] slots = new long[16];
    private int size;

    boolean fits(long position) {
      return base < 0 || position - base < POSITION_MASK;
    }

    void put(int hashBits, long position) {
      if (base < 0) {
        base = position;
      }
      if (position < base) {
        throw new IllegalArgumentException("key positions must not decrease: " + position + " < " + base);
      }
      if ((size + 1) * 2 > slots.length) {
        grow();
      }
      insert(((long) hashBits << POSITION_BITS) | (position - base + 1));
      size++;
    }

    void forEach(int hashBits, LongConsumer out) {
      int mask = slots.length - 1;
      for (int i = hashBits & mask; slots[i] != 0; i = (i + 1) & mask) {
        if ((int) (slots[i] >>> POSITION_BITS) == hashBits) {
          out.accept(base + (slots[i] & POSITION_MASK) - 1);
        }
      }
    }

    private void insert(long slot) {
      int mask = slots.length - 1;
      int i = (int) (slot >>> POSITION_BITS) & mask;
      while (slots[i] != 0) {
        i = (i + 1) & mask;
      }
      slots[i] = slot;
    }

    private void grow() {
      long[] old = slots;
      slots = new long[old.length * 2];
      for (long slot : old) {
        if (slot != 0) {
          insert(slot);
        }
      }
    }
  }
}
