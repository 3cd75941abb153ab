package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardMapTest {

  @Test
  @DisplayName("a user's shard is the first 8 bytes of SHA-256 of the UTF-8 id, unsigned, modulo the count: "
      + "the values docs/storage.md lists, which any other tool computes the same")
  void documentedValues() {
    // sha256("alice") starts 2bd806c97f0e00af; sha256("bob") starts 81b637d8fcd2c6da (above 2^63: unsigned).
    assertEquals(1, ShardMap.shardOf("alice", 2));
    assertEquals(2, ShardMap.shardOf("alice", 3));
    assertEquals(0, ShardMap.shardOf("bob", 2));
    assertEquals(2, ShardMap.shardOf("bob", 4));
    assertEquals(0, ShardMap.shardOf("carol", 2));
    assertEquals(1, ShardMap.shardOf("dave", 2));
    assertEquals(2, ShardMap.shardOf("ü-user", 3));
  }

  @Test
  @DisplayName("one shard holds everyone, and many ids spread evenly over four shards")
  void spread() {
    assertEquals(0, new ShardMap(1).shardOf("anyone"));
    int[] counts = new int[4];
    ShardMap map = new ShardMap(4);
    for (int i = 0; i < 40_000; i++) {
      counts[map.shardOf("user-" + i)]++;
    }
    for (int count : counts) {
      assertTrue(count > 9_500 && count < 10_500, "uneven spread: " + java.util.Arrays.toString(counts));
    }
    assertThrows(IllegalArgumentException.class, () -> new ShardMap(0));
  }
}
