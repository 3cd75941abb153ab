package dev.switchboard.bench;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoomLedgerTest {

  @Test
  @DisplayName("every accepted roomSeq received once and in order by every member counts nothing lost")
  void cleanRun() {
    RoomLedger l = new RoomLedger(2, 3);
    l.onAccepted(0, 4);
    l.onAccepted(0, 5);
    l.onAccepted(1, 4);
    for (int i = 0; i < 3; i++) {
      l.onDelivered(i, 0, 4);
      l.onDelivered(i, 0, 5);
      l.onDelivered(3 + i, 1, 4);
    }
    assertEquals(9, l.expected());
    assertEquals(9, l.distinct);
    assertEquals(0, l.lost());
    assertEquals(0, l.duplicates + l.outOfOrder + l.foreign + l.unexpected());
  }

  @Test
  @DisplayName("a copy missing for one member is lost even when another member got a copy twice")
  void lossPerMember() {
    RoomLedger l = new RoomLedger(1, 2);
    l.onAccepted(0, 1);
    l.onAccepted(0, 2);
    l.onDelivered(0, 0, 1);
    l.onDelivered(0, 0, 2);
    l.onDelivered(1, 0, 1);
    l.onDelivered(1, 0, 1);
    assertEquals(1, l.lost());
    assertEquals(1, l.duplicates);
    assertEquals(3, l.distinct);
  }

  @Test
  @DisplayName("a lower roomSeq after a higher one is out of order; a copy of another room is foreign")
  void orderAndForeign() {
    RoomLedger l = new RoomLedger(2, 1);
    l.onAccepted(0, 7);
    l.onAccepted(0, 8);
    l.onDelivered(0, 0, 8);
    l.onDelivered(0, 0, 7);
    l.onDelivered(0, 1, 9);
    l.onDelivered(1, 1, 3);
    assertEquals(1, l.outOfOrder);
    assertEquals(1, l.foreign);
    assertEquals(0, l.lost());
    assertEquals(1, l.unexpected());
  }

  @Test
  @DisplayName("the setup is settled once every member has seen the event that made it a member")
  void settledAfterSetupEvents() {
    RoomLedger l = new RoomLedger(1, 3);
    l.setJoined(0, 1);
    l.setJoined(1, 2);
    l.setJoined(2, 3);
    l.setBase(0, 3);
    l.onEvent(0, 0, 1);
    l.onEvent(1, 0, 1);
    assertFalse(l.settled());
    l.onEvent(1, 0, 2);
    assertFalse(l.settled());
    // In a room above limits.roomEventMembers, member 0 never hears of member 2's addition.
    l.onEvent(2, 0, 3);
    assertTrue(l.settled());
  }
}
