package dev.switchboard.webhook;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BackoffTest {

  @Test
  @DisplayName("waits double from the initial delay up to the maximum, each jittered within its upper half")
  void doublesWithJitter() {
    Backoff top = new Backoff(500, 60_000, () -> 0.999_999);
    Backoff bottom = new Backoff(500, 60_000, () -> 0.0);
    assertEquals(499, top.delayMillis(1));
    assertEquals(250, bottom.delayMillis(1));
    assertEquals(999, top.delayMillis(2));
    assertEquals(500, bottom.delayMillis(2));
    assertEquals(3999, top.delayMillis(4));
    assertEquals(59_999, top.delayMillis(8));
    assertEquals(30_000, bottom.delayMillis(40));
    assertEquals(59_999, top.delayMillis(Integer.MAX_VALUE));
  }
}
