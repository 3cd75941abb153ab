package dev.switchboard.gateway;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PendingReceiptsTest {

  @Test
  @DisplayName("an ack releases the pending messages at or below its seq, each once")
  void ackReleasesOnce() {
    PendingReceipts pending = new PendingReceipts(10);
    pending.delivered(3, "m.r", "alice");
    pending.delivered(5, "n.r", "carol");
    assertEquals(List.of(), pending.acked(2));
    assertEquals(List.of(new PendingReceipts.Pending(3, "m.r", "alice")), pending.acked(4));
    assertEquals(List.of(), pending.acked(4));
    assertEquals(List.of(new PendingReceipts.Pending(5, "n.r", "carol")), pending.acked(9));
    assertEquals(0, pending.size());
  }

  @Test
  @DisplayName("past its limit the oldest pending message is forgotten")
  void boundedOldestForgotten() {
    PendingReceipts pending = new PendingReceipts(2);
    pending.delivered(1, "a.r", "x");
    pending.delivered(2, "b.r", "x");
    pending.delivered(3, "c.r", "x");
    assertEquals(List.of(new PendingReceipts.Pending(2, "b.r", "x"), new PendingReceipts.Pending(3, "c.r", "x")),
        pending.acked(3));
  }
}
