package dev.switchboard.gateway;

import dev.switchboard.protocol.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConversationOrderTest {

  @Test
  @DisplayName("a send behind one in flight is held, and goes once that one is stored")
  void heldUntilAnswered() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000);
    assertTrue(order.enter("bob", "a", "A"));
    assertFalse(order.enter("bob", "b", "B"));
    assertTrue(order.enter("carol", "c", "C"), "another conversation is not held");
    assertEquals(new ConversationOrder.Held<>("b", "B"), order.answered("bob"));
    assertNull(order.answered("bob"));
    assertNull(order.answered("carol"));
    assertEquals(0, order.size());
  }

  @Test
  @DisplayName("sends held behind one refused later (as a store fault is) are refused with its code, and so is every new one until it comes again")
  void refusalBlocksUntilResent() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000);
    assertTrue(order.enter("bob", "a", "A"));
    assertFalse(order.enter("bob", "b", "B"));
    assertFalse(order.enter("bob", "c", "C"));
    List<ConversationOrder.Held<String>> behind = order.refused("bob", "a", ErrorCode.UNAVAILABLE, 0);
    assertEquals(List.of("b", "c"), behind.stream().map(ConversationOrder.Held::id).toList());
    assertEquals(ErrorCode.UNAVAILABLE, order.blocked("bob", "b", 1));
    assertNull(order.blocked("carol", "x", 1));
    assertNull(order.blocked("bob", "a", 1), "the refused send itself lifts the refusal");
    assertTrue(order.enter("bob", "a", "A"));
    assertFalse(order.enter("bob", "b", "B"));
    assertEquals("b", order.answered("bob").id());
    assertNull(order.answered("bob"));
    assertEquals(0, order.size());
  }

  @Test
  @DisplayName("a send refused before the store (rate limit) blocks later ones; an earlier send in flight refused after it takes its place")
  void refusedAtOnce() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000);
    assertTrue(order.enter("bob", "a", "A"));
    order.refusedAtOnce("bob", "b", ErrorCode.RATE_LIMITED, 0);
    assertEquals(ErrorCode.RATE_LIMITED, order.blocked("bob", "c", 1));
    order.refused("bob", "a", ErrorCode.OVERLOADED, 0);
    assertEquals(ErrorCode.OVERLOADED, order.blocked("bob", "b", 1));
    assertNull(order.blocked("bob", "a", 1));
  }

  @Test
  @DisplayName("a refusal lapses once the refused send is older than the idempotency window, when no client would retry it")
  void refusalLapses() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000);
    assertTrue(order.enter("bob", "a", "A"));
    order.refused("bob", "a", ErrorCode.UNAVAILABLE, 1_000);
    assertEquals(ErrorCode.UNAVAILABLE, order.blocked("bob", "b", 300_999));
    assertNull(order.blocked("bob", "b", 301_000));
    assertEquals(0, order.size());
  }
}
