package dev.switchboard.gateway;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.switchboard.gateway.SignalLimit.Verdict.DROP;
import static dev.switchboard.gateway.SignalLimit.Verdict.DROP_AND_TELL;
import static dev.switchboard.gateway.SignalLimit.Verdict.PASS;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SignalLimitTest {

  @Test
  @DisplayName("a burst of the per-second rate passes; over it, the first drop is told, the rest are silent")
  void toldOncePerRun() {
    SignalLimit limit = new SignalLimit(3, 0);
    List<SignalLimit.Verdict> verdicts = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      verdicts.add(limit.admit(0));
    }
    assertEquals(List.of(PASS, PASS, PASS, DROP_AND_TELL, DROP, DROP), verdicts);
  }

  @Test
  @DisplayName("once a signal passes again, the next drop is told again")
  void toldAgainAfterAPass() {
    SignalLimit limit = new SignalLimit(2, 0);
    assertEquals(PASS, limit.admit(0));
    assertEquals(PASS, limit.admit(0));
    assertEquals(DROP_AND_TELL, limit.admit(0));
    assertEquals(DROP, limit.admit(100));
    assertEquals(PASS, limit.admit(500)); // one token flowed in over half a second at 2 per second
    assertEquals(DROP_AND_TELL, limit.admit(500));
  }
}
