package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyPositionsTest {

  private static List<Long> candidates(KeyPositions keys, long hash, long now) {
    List<Long> out = new ArrayList<>();
    keys.candidates(hash, now, out::add);
    return out;
  }

  /** A hash whose 28 bits that the table keeps are {@code bits}. */
  private static long hashWith(long bits) {
    return bits << 36 | 0x5_0000_0001L;
  }

  @Test
  @DisplayName("keys sharing hash bits are all candidates: none hides another")
  void sharedHash() {
    KeyPositions keys = new KeyPositions(60_000);
    keys.add(hashWith(42), 100, 0);
    keys.add(hashWith(7), 200, 0);
    keys.add(hashWith(42), 300, 0);
    keys.add(hashWith(42 + 16), 400, 0); // the same slot in a 16-slot table, other bits
    assertEquals(List.of(100L, 300L), candidates(keys, hashWith(42), 1));
    assertEquals(List.of(400L), candidates(keys, hashWith(42 + 16), 1));
    assertEquals(List.of(), candidates(keys, hashWith(43), 1));
  }

  @Test
  @DisplayName("a generation that has seen 64 GiB of log turns, and its keys stay candidates for one more")
  void positionRange() {
    KeyPositions keys = new KeyPositions(60_000);
    long far = 1L << 36;
    keys.add(hashWith(1), 16, 0);
    keys.add(hashWith(2), 16 + far, 0);
    assertEquals(List.of(16L), candidates(keys, hashWith(1), 1));
    assertEquals(List.of(16 + far), candidates(keys, hashWith(2), 1));
    keys.add(hashWith(3), 16 + 2 * far, 0);
    assertEquals(List.of(), candidates(keys, hashWith(1), 1));
    assertEquals(List.of(16 + far), candidates(keys, hashWith(2), 1));
  }

  @Test
  @DisplayName("a key stays a candidate for at least the window, and is forgotten two windows later")
  void window() {
    KeyPositions keys = new KeyPositions(60_000);
    keys.add(hashWith(5), 10, 0);
    assertEquals(List.of(10L), candidates(keys, hashWith(5), 59_999));
    assertEquals(List.of(10L), candidates(keys, hashWith(5), 60_000));
    assertEquals(List.of(10L), candidates(keys, hashWith(5), 119_999));
    assertEquals(List.of(), candidates(keys, hashWith(5), 120_000));
  }

  @Test
  @DisplayName("200,000 keys: every one found after the table grew")
  void growth() {
    KeyPositions keys = new KeyPositions(60_000);
    for (int i = 0; i < 200_000; i++) {
      keys.add(KeyPositions.hash("user" + (i % 1000), "k" + i), i, 0);
    }
    for (int i = 0; i < 200_000; i += 997) {
      assertTrue(candidates(keys, KeyPositions.hash("user" + (i % 1000), "k" + i), 1).contains((long) i));
    }
  }

  @Test
  @DisplayName("the hash tells apart pairs that String.hashCode does not, and where the separator falls")
  void hash() {
    assertEquals("Aa".hashCode(), "BB".hashCode());
    assertNotEquals(KeyPositions.hash("Aa", "k"), KeyPositions.hash("BB", "k"));
    assertNotEquals(KeyPositions.hash("ab", "c"), KeyPositions.hash("a", "bc"));
  }

  @Test
  @DisplayName("a key's hash never changes: index files written by an earlier build hold it")
  void hashIsStable() {
    assertEquals(0xc6024353dbd9a07aL, KeyPositions.hash("alice", "k-1"));
    assertEquals(0xa347a65bac1372c8L, KeyPositions.hash("", ""));
    assertEquals(0xb3686234a5c90a21L, KeyPositions.hash("ab", "c"));
    assertEquals(0xc7e3dbb62856a7a9L, KeyPositions.hash("\u00e9\u7528", "\uD83D\uDE00"));
  }
}
