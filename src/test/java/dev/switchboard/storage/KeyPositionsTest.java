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

  @Test
  @DisplayName("keys sharing a hash are all candidates: none hides another")
  void sharedHash() {
    KeyPositions keys = new KeyPositions(60_000);
    keys.add(42, 100, 0);
    keys.add(7, 200, 0);
    keys.add(42, 300, 0);
    keys.add(42 + 16, 400, 0); // same slot in a 16-slot table, different hash
    assertEquals(List.of(100L, 300L), candidates(keys, 42, 1));
    assertEquals(List.of(400L), candidates(keys, 42 + 16, 1));
    assertEquals(List.of(), candidates(keys, 43, 1));
  }

  @Test
  @DisplayName("a key stays a candidate for at least the window, and is forgotten two windows later")
  void window() {
    KeyPositions keys = new KeyPositions(60_000);
    keys.add(5, 10, 0);
    assertEquals(List.of(10L), candidates(keys, 5, 59_999));
    assertEquals(List.of(10L), candidates(keys, 5, 60_000));
    assertEquals(List.of(10L), candidates(keys, 5, 119_999));
    assertEquals(List.of(), candidates(keys, 5, 120_000));
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
}
