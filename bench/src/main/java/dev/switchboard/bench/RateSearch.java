package dev.switchboard.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code --find-max} search over offered rates that {@code direct} and {@code cluster-fanout}
 * share: up by {@code --factor} until a step fails, then bisect between the highest pass and the
 * lowest failure, until they are within 8% of each other, {@code --max-steps} have run, the next
 * step would overrun {@code --budget}, or nothing has passed and the rate falls below a floor.
 * It keeps the table's rows; the runs measure and judge each step.
 */
final class RateSearch<P extends Phase> {

  final double stepSeconds;
  final double limitMs;
  final double factor;
  private final int maxSteps;
  private final double budget;
  private final double floor;
  private final long began = System.nanoTime();
  private final List<String> rows = new ArrayList<>();
  private int steps;
  private boolean done;
  /** The rate of the next step. */
  double rate;
  private double lo = -1;
  private double hi = -1;
  private P best;
  private boolean outOfBudget;

  /** From {@code start}; a search with no pass stops once the rate would fall below {@code floor}. */
  RateSearch(Args a, double start, double floor) {
    this.stepSeconds = a.dbl("step", 8);
    this.factor = a.dbl("factor", 1.3);
    this.maxSteps = a.integer("max-steps", 10);
    this.limitMs = a.dbl("p99-limit", 50);
    // 300 s: with 120 the waits for a quiet machine before noisy steps used the budget up, and a
    // run could stop before its first failing step (its maximum then a lower bound)
    this.budget = a.dbl("budget", 300);
    this.floor = floor;
    this.rate = start;
  }

  boolean going() {
    return !done && steps < maxSteps;
  }

  /** The warm-up of the next step: the run's own before the first, 1 s after. */
  double warmup(double first) {
    return steps == 0 ? first : 1;
  }

  /** Prints a row of the steps table and keeps it. */
  void show(String row) {
    rows.add(row);
    System.out.println("  step " + row);
  }

  /** The verdict on the step at {@link #rate}: picks the next rate, or ends the search. */
  void record(P step, boolean pass) {
    steps++;
    if (pass) {
      lo = rate;
      if (best == null || rate > best.rate()) {
        best = step;
      }
    } else {
      hi = rate;
    }
    if (lo > 0 && hi > 0 && hi / lo < 1.08) {
      done = true;
      return;
    }
    if ((System.nanoTime() - began) / 1e9 + stepSeconds + 2 > budget) {
      outOfBudget = true;
      done = true;
      return;
    }
    rate = hi < 0 ? rate * factor : lo < 0 ? rate / 2 : (lo + hi) / 2;
    if (!pass && lo < 0 && rate < floor) {
      done = true;
    }
  }

  /** The highest passing step, null when none passed. */
  P best() {
    return best;
  }

  boolean outOfBudget() {
    return outOfBudget;
  }

  /** The rows shown so far, under {@code header}. */
  String table(String header) {
    return header + String.join("\n", rows);
  }

  /** What bounds the maximum found: the first failing rate (in {@code unit}), or none; and the budget if it ran out. */
  String bounds(String unit) {
    return (hi > 0 ? " (first failing rate: " + Result.rate(hi) + unit + ")" : " (no step failed: the true maximum is higher)")
        + (outOfBudget ? "; stopped by --budget before the search closed in" : "");
  }
}
