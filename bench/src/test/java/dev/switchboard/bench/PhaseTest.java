package dev.switchboard.bench;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PhaseTest {

  private static ProcStats.Cpu cpu(double serverSeconds) {
    return new ProcStats.Cpu(serverSeconds, 0, 0, 0, 0, 0, Map.of(), Map.of());
  }

  /** A direct step of 10 s at 1,000 msg/s: 9,500 received in the window, latencies 1..100 ms. */
  private static DirectRun.Step step() {
    Histogram latency = new Histogram(3);
    for (int ms = 1; ms <= 100; ms++) {
      latency.recordValue(ms * 1000L);
    }
    return new DirectRun.Step(1000, 10, 0, 0, 9500, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, latency, new Histogram(3),
        new Histogram[0], cpu(1), cpu(2), 10_000, new Histogram(3), new Histogram(3), new Histogram(3));
  }

  @Test
  @DisplayName("a step's row starts with offered and delivered per second, p50, p99 and max ms, and lost, in fixed columns")
  void columns() {
    assertEquals("     1,000          950      50.0      99.0       100        3", step().columns());
  }

  @Test
  @DisplayName("a step's CPU per delivery is the servers' CPU between the snapshots over the deliveries between them")
  void cpuPerDelivery() {
    assertEquals(100.0, step().cpuMicrosPerDelivery(), 1e-9);
    assertEquals(950.0, step().perSecond(), 1e-9);
    assertEquals(99.0, step().p99ms(), 0.1);
  }
}
