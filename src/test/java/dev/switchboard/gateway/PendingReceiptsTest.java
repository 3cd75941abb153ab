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
    pending.delivered(3, "m.r", "alice", null);
    pending.delivered(5, "n.r", "carol", null);
    assertEquals(List.of(), pending.acked(2));
    assertEquals(List.of(new PendingReceipts.Pending(3, "m.r", "alice", null)), pending.acked(4));
    assertEquals(List.of(), pending.acked(4));
    assertEquals(List.of(new PendingReceipts.Pending(5, "n.r", "carol", null)), pending.acked(9));
    assertEquals(0, pending.size());
  }

  @Test
  @DisplayName("past its limit the oldest pending message is forgotten")
  void boundedOldestForgotten() {
    PendingReceipts pending = new PendingReceipts(2);
    pending.delivered(1, "a.r", "x", null);
    pending.delivered(2, "b.r", "x", null);
    pending.delivered(3, "c.r", "x", null);
    assertEquals(List.of(new PendingReceipts.Pending(2, "b.r", "x", null), new PendingReceipts.Pending(3, "c.r", "x", null)),
        pending.acked(3));
  }
}
