package dev.switchboard.bench;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReceiptLedgerTest {

  @Test
  @DisplayName("a delivered receipt from every other member to the sender, and every read to every other member, is complete")
  void cleanRun() {
    ReceiptLedger l = new ReceiptLedger(2, 3);
    l.onAccepted(0, "m1.r", 4);
    l.onAccepted(3, "n1.r", 2);
    l.onDelivered(0, 0, 1, "m1.r");
    l.onDelivered(0, 0, 2, "m1.r");
    l.onDelivered(3, 1, 4, "n1.r");
    l.onDelivered(3, 1, 5, "n1.r");
    l.onReadSent(1, "m1.r");
    l.onRead(0, 0, 1, "m1.r");
    l.onRead(2, 0, 1, "m1.r");
    assertEquals(4, l.deliveredDue());
    assertEquals(4, l.deliveredDistinct);
    assertEquals(0, l.deliveredLost());
    assertEquals(2, l.readsDue());
    assertEquals(2, l.readsDistinct);
    assertEquals(0, l.readsLost());
    assertTrue(l.complete());
    assertTrue(l.counts().clean());
  }

  @Test
  @DisplayName("a missing delivered receipt is lost even when another member's came twice")
  void deliveredLossPerMember() {
    ReceiptLedger l = new ReceiptLedger(1, 3);
    l.onAccepted(0, "a.r", 1);
    l.onDelivered(0, 0, 1, "a.r");
    l.onDelivered(0, 0, 1, "a.r");
    assertEquals(2, l.deliveredDue());
    assertEquals(1, l.deliveredDistinct);
    assertEquals(1, l.deliveredDuplicates);
    assertEquals(1, l.deliveredLost());
    assertFalse(l.complete());
    assertFalse(l.counts().clean());
  }

  @Test
  @DisplayName("a receipt to a user who did not send the message, by its sender, or for an unknown msgId is foreign")
  void foreignDelivered() {
    ReceiptLedger l = new ReceiptLedger(1, 3);
    l.onAccepted(0, "a.r", 1);
    l.onDelivered(1, 0, 2, "a.r");
    l.onDelivered(0, 0, 0, "a.r");
    l.onDelivered(0, 0, 2, "nope");
    assertEquals(3, l.foreign);
    assertEquals(0, l.deliveredDistinct);
    assertEquals(2, l.deliveredLost());
  }

  @Test
  @DisplayName("a room message's roomSeq is learnt from a member's copy as well as from its accepted")
  void msgIdFromCopy() {
    ReceiptLedger l = new ReceiptLedger(1, 2);
    l.onMessage(0, "b.r", 7);
    l.onAccepted(1, "b.r", 7);
    l.onDelivered(1, 0, 0, "b.r");
    assertEquals(1, l.deliveredDistinct);
    assertEquals(0, l.foreign);
  }

  @Test
  @DisplayName("a read missing for one member is lost; a read back to its reader is foreign, a second copy doubled")
  void readsPerReceiver() {
    ReceiptLedger l = new ReceiptLedger(1, 3);
    l.onReadSent(0, "x");
    l.onReadSent(0, "y");
    l.onRead(1, 0, 0, "x");
    l.onRead(1, 0, 0, "y");
    l.onRead(1, 0, 0, "y");
    l.onRead(2, 0, 0, "x");
    l.onRead(0, 0, 0, "x");
    assertEquals(4, l.readsDue());
    assertEquals(3, l.readsDistinct);
    assertEquals(1, l.readsDuplicates);
    assertEquals(1, l.readsLost());
    assertEquals(1, l.foreign);
  }

  @Test
  @DisplayName("counts since a snapshot keep only what happened after it")
  void countsSince() {
    ReceiptLedger l = new ReceiptLedger(1, 2);
    l.onAccepted(0, "a.r", 1);
    l.onDelivered(0, 0, 1, "a.r");
    ReceiptLedger.Counts before = l.counts();
    l.onAccepted(0, "b.r", 2);
    l.onDelivered(0, 0, 1, "b.r");
    l.onDelivered(0, 0, 1, "b.r");
    ReceiptLedger.Counts step = l.counts().since(before);
    assertEquals(1, step.deliveredDue());
    assertEquals(1, step.delivered());
    assertEquals(1, step.deliveredDuplicates());
    assertEquals(0, step.deliveredLost());
    assertFalse(step.clean());
  }
}
