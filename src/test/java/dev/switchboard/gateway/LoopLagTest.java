package dev.switchboard.gateway;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
class LoopLagTest {

  @Test
  @DisplayName("behind above the limit, caught up only within half of it (no flapping at the limit)")
  void hysteresis(Vertx vertx) {
    LoopLag lag = new LoopLag(vertx, 100, (behind, millis) -> { });
    assertFalse(lag.observe(100), "at the limit is not behind");
    assertTrue(lag.observe(101));
    assertTrue(lag.behind());
    assertFalse(lag.observe(300), "still behind: no change to report");
    assertFalse(lag.observe(51), "above half the limit: still behind");
    assertTrue(lag.observe(50));
    assertFalse(lag.behind());
    assertFalse(lag.observe(0));
  }

  @Test
  @DisplayName("work queued on the loop makes its timer late: reported behind, then caught up once the work is done")
  void seesQueuedWorkOnARealLoop(Vertx vertx, VertxTestContext test) {
    Context loop = vertx.getOrCreateContext();
    List<Boolean> states = new ArrayList<>();
    List<Long> lags = new ArrayList<>();
    loop.runOnContext(v -> {
      LoopLag[] lag = new LoopLag[1];
      lag[0] = new LoopLag(vertx, 20, (behind, millis) -> {
        states.add(behind);
        lags.add(millis);
        if (!behind) {
          lag[0].stop();
          test.verify(() -> {
            assertEquals(List.of(true, false), states);
            assertTrue(lags.get(0) > 20, "late by " + lags.get(0) + " ms");
          });
          test.completeNow();
        }
      });
      lag[0].start();
      // ~300 ms of work, in 1 ms tasks: each is short, together they keep the timer waiting
      for (int i = 0; i < 300; i++) {
        loop.runOnContext(x -> {
          long until = System.nanoTime() + 1_000_000L;
          while (System.nanoTime() < until) {
            Thread.onSpinWait();
          }
        });
      }
    });
  }
}
