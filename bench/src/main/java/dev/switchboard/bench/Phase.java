package dev.switchboard.bench;

import org.HdrHistogram.Histogram;

import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * What one phase of a rate-stepping run (a fixed rate for a fixed time, then a drain) measured, as
 * {@code direct} and {@code cluster-fanout} share it: its p99, its rate of deliveries, the leading
 * columns of its row in the steps table, and repeating it when the machine was noisy.
 */
interface Phase {

  /** The offered rate. */
  double rate();

  /** The measured window's length. */
  double seconds();

  /** Deliveries received within the measured window. */
  long receivedInWindow();

  long lost();

  /** Send (or push) to delivery, in µs. */
  Histogram latency();

  ProcStats.Cpu cpu0();

  ProcStats.Cpu cpu1();

  /** Deliveries between the two CPU snapshots. */
  long deliveredInCpuWindow();

  default double p99ms() {
    return latency().getTotalCount() == 0 ? Double.NaN : latency().getValueAtPercentile(99) / 1000.0;
  }

  /** Deliveries per second of the measured window. */
  default double perSecond() {
    return receivedInWindow() / seconds();
  }

  /** Server CPU µs per delivery between the CPU snapshots. */
  default double cpuMicrosPerDelivery() {
    return (cpu1().server() - cpu0().server()) * 1e6 / Math.max(1, deliveredInCpuWindow());
  }

  /** The steps table's first columns: offered, delivered per second, p50, p99 and max ms, lost. */
  default String columns() {
    return String.format(Locale.ROOT, "%10s %12s %9s %9s %9s %8d", Result.rate(rate()), Result.rate(perSecond()),
        Result.f(latency().getValueAtPercentile(50) / 1000.0), Result.f(p99ms()), Result.f(latency().getMaxValue() / 1000.0),
        lost());
  }

  /**
   * Runs {@code phase} with the given warm-up, and again (at most twice, after waiting for the machine
   * to go quiet, with a 1 s warm-up) when other work on the machine used more than 30% of a core
   * meanwhile: on 2 shared cores that would decide the step, not the server.
   */
  static <P extends Phase> P quiet(double rate, String unit, double warmup, DoubleFunction<P> phase) {
    P st = phase.apply(warmup);
    for (int retry = 0; retry < 2 && ProcStats.Cpu.noisy(st.cpu0(), st.cpu1()); retry++) {
      System.out.println(String.format(Locale.ROOT, "  step at %s %s was noisy (other work used %.1f s of CPU); "
          + "waiting for a quiet machine and repeating it", Result.rate(rate), unit, ProcStats.Cpu.others(st.cpu0(), st.cpu1())));
      ProcStats.waitQuiet(60);
      st = phase.apply(1);
    }
    return st;
  }
}
