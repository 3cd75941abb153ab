package dev.switchboard.storage;

/**
 * 64-bit FNV-1a over the chars of strings, then a finalizer so that every input bit moves the high
 * bits. The log engine writes these hashes into its index files, so they must never change.
 */
final class StableHash {

  /** The hash of nothing: where each hash starts. */
  static final long EMPTY = 0xcbf29ce484222325L;
  private static final long PRIME = 0x100000001b3L;

  private StableHash() {
  }

  /** {@code h} followed by every char of {@code s}. */
  static long add(long h, String s) {
    for (int i = 0; i < s.length(); i++) {
      h = add(h, s.charAt(i));
    }
    return h;
  }

  /** {@code h} followed by one code unit; a value above any char separates strings. */
  static long add(long h, int unit) {
    return (h ^ unit) * PRIME;
  }

  /** The finished hash of everything added to {@code h}. */
  static long finish(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    return h ^ (h >>> 33);
  }
}
