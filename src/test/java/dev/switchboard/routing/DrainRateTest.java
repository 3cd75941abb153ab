package dev.switchboard.routing;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DrainRateTest {

  private static final long MS = 1_000_000L;

  @Test
  @DisplayName("unknown until two answers of a busy store; then requests take the time between them each")
  void perRequestWhileBusy() {
    DrainRate rate = new DrainRate();
    rate.busy();
    rate.answered(5 * MS);
    assertEquals(0, rate.nanosFor(10), "one answer tells no interval");
    rate.busy();
    rate.answered(25 * MS);
    assertEquals(200 * MS, rate.nanosFor(10));
    assertEquals(20 * MS, rate.nanosFor(1));
    assertEquals(0, rate.nanosFor(0));
  }

  @Test
  @DisplayName("an interval in which a request slot stood free is not counted: an idle store only looks slow")
  void idleIntervalsDoNotCount() {
    DrainRate rate = new DrainRate();
    rate.answered(0);
    rate.answered(1_000 * MS); // never busy in between
    assertEquals(0, rate.nanosFor(1));
    rate.busy();
    rate.answered(1_008 * MS);
    assertEquals(8 * MS, rate.nanosFor(1));
  }

  @Test
  @DisplayName("a new interval moves the rate a fifth of the way: one slow commit does not make the store look stopped")
  void smoothed() {
    DrainRate rate = new DrainRate();
    rate.answered(0);
    rate.busy();
    rate.answered(10 * MS);
    rate.busy();
    rate.answered(70 * MS); // 60 ms once
    assertEquals(20 * MS, rate.nanosFor(1));
  }
}
