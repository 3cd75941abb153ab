package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecentSendKeysTest {

  private static AppendPlanner.SendKey key(int sender, int n) {
    return new AppendPlanner.SendKey("user-" + sender, Integer.toString(n, 36) + "-" + n);
  }

  @Test
  @DisplayName("every key added is reported as maybe stored: no false 'no'")
  void noFalseNegatives() {
    RecentSendKeys keys = new RecentSendKeys(300_000, 1 << 16);
    for (int i = 0; i < 50_000; i++) {
      keys.add(key(i % 97, i), 1_000);
    }
    for (int i = 0; i < 50_000; i++) {
      assertTrue(keys.mayContain(key(i % 97, i), 2_000), "key " + i);
    }
  }

  @Test
  @DisplayName("a key stays for at least the window however the generations turn, and is dropped after two")
  void window() {
    RecentSendKeys keys = new RecentSendKeys(1_000);
    keys.add(key(1, 1), 0);          // the first generation starts at 0
    keys.add(key(1, 2), 990);        // just before it turns
    assertTrue(keys.mayContain(key(1, 1), 990));
    assertTrue(keys.mayContain(key(1, 2), 1_000)); // turned at 1,000: now in the previous generation
    keys.add(key(1, 3), 1_500);
    assertTrue(keys.mayContain(key(1, 2), 1_980)); // added at 990, within the window until 1,990
    assertFalse(keys.mayContain(key(1, 2), 2_000)); // turned at 2,000: the generation of 0..999 is gone
    assertTrue(keys.mayContain(key(1, 3), 2_000));
    assertTrue(keys.mayContain(key(1, 3), 2_490)); // added at 1,500, within the window until 2,500
    assertFalse(keys.mayContain(key(1, 3), 3_000)); // turned at 3,000: the generation of 1,000..1,999 is gone
  }

  @Test
  @DisplayName("a window under a second still turns generations at most once a second (keys kept longer, never shorter)")
  void tinyWindow() {
    RecentSendKeys keys = new RecentSendKeys(0);
    keys.add(key(2, 1), 0);
    assertTrue(keys.mayContain(key(2, 1), 0));
    assertTrue(keys.mayContain(key(2, 1), 999));
    assertTrue(keys.mayContain(key(2, 1), 1_000));
    assertFalse(keys.mayContain(key(2, 1), 2_000));
  }

  @Test
  @DisplayName("keys never added are mostly 'no' (few false 'maybe's), and sender and key are not confused")
  void falsePositives() {
    RecentSendKeys keys = new RecentSendKeys(300_000, 1 << 20);
    for (int i = 0; i < 100_000; i++) {
      keys.add(key(i % 1_000, i), 0);
    }
    int maybes = 0;
    for (int i = 100_000; i < 200_000; i++) {
      if (keys.mayContain(key(i % 1_000, i), 1)) {
        maybes++;
      }
    }
    // 100,000 keys in 2^20 bits with 4 hashes: about 1% expected
    assertTrue(maybes < 2_000, maybes + " false maybes of 100,000");
    keys.add(new AppendPlanner.SendKey("ab", "c"), 1);
    assertFalse(keys.mayContain(new AppendPlanner.SendKey("a", "bc"), 1) && keys.mayContain(new AppendPlanner.SendKey("abc", ""), 1));
  }
}
