package dev.switchboard.storage;

import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * Where the log engine wrote each idempotency key of the window: a 64-bit hash of (sender, key) ->
 * position of the key's entry, 16 bytes a slot. Several keys may share a hash, so a lookup yields
 * every candidate and the caller reads each entry to compare; a key is never missed. Two
 * generations, turned every window (at least every second): a key stays at least a window, and
 * dropping the older generation is what forgets expired keys.
 */
final class KeyPositions {

  private static final long EMPTY = -1;

  private final GenerationTimer generations;
  private Table current = new Table();
  private Table previous = new Table();

  KeyPositions(long windowMillis) {
    this.generations = new GenerationTimer(windowMillis);
  }

  void add(long hash, long position, long now) {
    rotate(now);
    current.put(hash, position);
  }

  /** Every position recorded under {@code hash} within (at least) the last window. */
  void candidates(long hash, long now, LongConsumer out) {
    rotate(now);
    current.forEach(hash, out);
    previous.forEach(hash, out);
  }

  private void rotate(long now) {
    if (generations.turn(now)) {
      previous = current;
      current = new Table();
    }
  }

  /** 64 bits over every char of both strings (FNV-1a, then a finalizer), with a separator between them. */
  static long hash(String sender, String key) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < sender.length(); i++) {
      h = (h ^ sender.charAt(i)) * 0x100000001b3L;
    }
    h = (h ^ 0x10000) * 0x100000001b3L;
    for (int i = 0; i < key.length(); i++) {
      h = (h ^ key.charAt(i)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h;
  }

  /** Open addressing with linear probing; equal hashes take separate slots. No removal. */
  private static final class Table {
    private long[] hashes = new long[16];
    private long[] positions = filled(16);
    private int size;

    void put(long hash, long position) {
      if ((size + 1) * 2 > hashes.length) {
        grow();
      }
      int mask = hashes.length - 1;
      int i = (int) hash & mask;
      while (positions[i] != EMPTY) {
        i = (i + 1) & mask;
      }
      hashes[i] = hash;
      positions[i] = position;
      size++;
    }

    void forEach(long hash, LongConsumer out) {
      int mask = hashes.length - 1;
      for (int i = (int) hash & mask; positions[i] != EMPTY; i = (i + 1) & mask) {
        if (hashes[i] == hash) {
          out.accept(positions[i]);
        }
      }
    }

    private void grow() {
      long[] oldHashes = hashes;
      long[] oldPositions = positions;
      hashes = new long[oldHashes.length * 2];
      positions = filled(oldHashes.length * 2);
      size = 0;
      for (int i = 0; i < oldHashes.length; i++) {
        if (oldPositions[i] != EMPTY) {
          put(oldHashes[i], oldPositions[i]);
        }
      }
    }

    private static long[] filled(int n) {
      long[] a = new long[n];
      Arrays.fill(a, EMPTY);
      return a;
    }
  }
}
