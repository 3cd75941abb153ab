package dev.switchboard.bench;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class RateSearchTest {

  /** A step at {@code rate} with nothing measured: the search only reads its rate. */
  private static DirectRun.Step step(double rate) {
    ProcStats.Cpu cpu = new ProcStats.Cpu(0, 0, 0, 0, 0, 0, Map.of(), Map.of());
    return new DirectRun.Step(rate, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, new Histogram(3), new Histogram(3),
        new Histogram[0], cpu, cpu, 0, new Histogram(3), new Histogram(3), new Histogram(3));
  }

  /** Runs a search in which every rate up to {@code max} passes; returns the rates it tried. */
  private static List<Double> search(RateSearch<DirectRun.Step> search, double max) {
    List<Double> tried = new ArrayList<>();
    while (search.going()) {
      tried.add(search.rate);
      search.record(step(search.rate), search.rate <= max);
    }
    return tried;
  }

  @Test
  @DisplayName("the rate goes up by the factor until a step fails, then bisects until pass and failure are within 8%")
  void upThenBisect() {
    RateSearch<DirectRun.Step> search = new RateSearch<>(new Args(new String[] {"--factor", "2"}, 0), 100, 10);
    assertEquals(List.of(100.0, 200.0, 400.0, 300.0, 350.0, 325.0, 312.5), search(search, 320));
    assertEquals(312.5, search.best().rate());
    assertEquals(" (first failing rate: 325)", search.bounds(""));
    assertFalse(search.outOfBudget());
  }

  @Test
  @DisplayName("with no pass the rate halves until it would fall below the floor; --max-steps bounds the steps")
  void haltsBelowTheFloorAndAfterMaxSteps() {
    RateSearch<DirectRun.Step> none = new RateSearch<>(new Args(new String[0], 0), 100, 10);
    assertEquals(List.of(100.0, 50.0, 25.0, 12.5), search(none, 0));
    assertNull(none.best());
    RateSearch<DirectRun.Step> short3 = new RateSearch<>(new Args(new String[] {"--max-steps", "3"}, 0), 100, 10);
    assertEquals(3, search(short3, 1e9).size());
    assertEquals(" (no step failed: the true maximum is higher)", short3.bounds(""));
  }
}
