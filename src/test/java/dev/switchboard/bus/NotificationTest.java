package dev.switchboard.bus;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NotificationTest {

  @Test
  @DisplayName("a notification is stored as the exact bytes of its JSON object, which the dispatcher recognises")
  void encodedAsItsJson() {
    for (Notification n : List.of(new Notification("bob", "alice", false, "hi"),
        new Notification("bob", "shop", true, "é \"quoted\"\n\u2028 \\ done"),
        new Notification("carol", "alice", false, "hi all", "team"),
        new Notification("carol", "news", true, "", "room|x"))) {
      assertEquals(n.toJson().encode(), n.encode());
      assertTrue(Notification.isEncoded(n.encode()), n.encode());
    }
    assertFalse(Notification.isEncoded("{\"id\":\"x\"}"));
    assertFalse(Notification.isEncoded("{\"user\":\"bob\""));
  }
}
