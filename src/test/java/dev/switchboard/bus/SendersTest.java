package dev.switchboard.bus;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SendersTest {

  @Test
  @DisplayName("a receipt about a room keeps the reader or member as the shown sender and names the room")
  void roomReceipts() {
    assertEquals("read|alice|team", Senders.receipt("alice", "team"));
    assertEquals("delivered|bob|team", Senders.delivered("bob", "team"));
    for (String stored : new String[] {"read|alice|team", "delivered|alice|team"}) {
      assertEquals("alice", Senders.shown(stored));
      assertEquals("team", Senders.receiptRoom(stored));
      assertFalse(Senders.isUser(stored));
      assertFalse(Senders.isPush(stored));
    }
    assertTrue(Senders.isReceipt("read|alice|team"));
    assertTrue(Senders.isDelivered("delivered|alice|team"));
  }

  @Test
  @DisplayName("receipts stored before rooms had receipts, and every other sender, name no room and show as before")
  void storedBeforeRoomReceipts() {
    assertEquals("read|alice", Senders.receipt("alice", null));
    assertEquals("delivered|bob", Senders.delivered("bob", null));
    assertEquals("alice", Senders.shown("read|alice"));
    assertEquals("bob", Senders.shown("delivered|bob"));
    assertNull(Senders.receiptRoom("read|alice"));
    assertNull(Senders.receiptRoom("delivered|bob"));
    assertNull(Senders.receiptRoom("alice"));
    assertNull(Senders.receiptRoom(Senders.push("shop")));
    assertEquals("shop", Senders.shown(Senders.push("shop")));
    assertEquals("alice", Senders.shown("alice"));
  }
}
