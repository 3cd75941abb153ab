package dev.switchboard.gateway;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenBucketTest {

  @Test
  @DisplayName("a burst passes, then the rate, and unused time refills no more than the burst")
  void rateAndBurst() {
    TokenBucket bucket = new TokenBucket(10, 3, 0);
    assertTrue(bucket.tryTake(0));
    assertTrue(bucket.tryTake(0));
    assertTrue(bucket.tryTake(0));
    assertFalse(bucket.tryTake(0));
    assertFalse(bucket.tryTake(99));
    assertTrue(bucket.tryTake(100));
    assertFalse(bucket.tryTake(100));
    for (int i = 0; i < 3; i++) {
      assertTrue(bucket.tryTake(10_000));
    }
    assertFalse(bucket.tryTake(10_000));
  }
}
