package dev.switchboard.gateway;

import dev.switchboard.protocol.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ConversationOrderTest {

  @Test
  @DisplayName("a send behind one in flight is held, and goes once that one is stored")
  void heldUntilAnswered() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000, 10);
    assertEquals(ConversationOrder.Entry.GO, order.enter("bob", "a", "A"));
    assertEquals(ConversationOrder.Entry.HELD, order.enter("bob", "b", "B"));
    assertEquals(ConversationOrder.Entry.GO, order.enter("carol", "c", "C"), "another conversation is not held");
    assertEquals(new ConversationOrder.Held<>("b", "B"), order.answered("bob"));
    assertNull(order.answered("bob"));
    assertNull(order.answered("carol"));
    assertEquals(0, order.size());
  }

  @Test
  @DisplayName("sends held behind one refused later (as a store fault is) are refused with its code, and so is every new one until it comes again")
  void refusalBlocksUntilResent() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000, 10);
    assertEquals(ConversationOrder.Entry.GO, order.enter("bob", "a", "A"));
    assertEquals(ConversationOrder.Entry.HELD, order.enter("bob", "b", "B"));
    assertEquals(ConversationOrder.Entry.HELD, order.enter("bob", "c", "C"));
    List<ConversationOrder.Held<String>> behind = order.refused("bob", "a", ErrorCode.UNAVAILABLE, 0);
    assertEquals(List.of("b", "c"), behind.stream().map(ConversationOrder.Held::id).toList());
    assertEquals(ErrorCode.UNAVAILABLE, order.blocked("bob", "b", 1));
    assertNull(order.blocked("carol", "x", 1));
    assertNull(order.blocked("bob", "a", 1), "the refused send itself lifts the refusal");
    assertEquals(ConversationOrder.Entry.GO, order.enter("bob", "a", "A"));
    assertEquals(ConversationOrder.Entry.HELD, order.enter("bob", "b", "B"));
    assertEquals("b", order.answered("bob").id());
    assertNull(order.answered("bob"));
    assertEquals(0, order.size());
  }

  @Test
  @DisplayName("a send refused before the store (rate limit) blocks later ones; an earlier send in flight refused after it takes its place")
  void refusedAtOnce() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000, 10);
    assertEquals(ConversationOrder.Entry.GO, order.enter("bob", "a", "A"));
    order.refusedAtOnce("bob", "b", ErrorCode.RATE_LIMITED, 0);
    assertEquals(ErrorCode.RATE_LIMITED, order.blocked("bob", "c", 1));
    order.refused("bob", "a", ErrorCode.OVERLOADED, 0);
    assertEquals(ErrorCode.OVERLOADED, order.blocked("bob", "b", 1));
    assertNull(order.blocked("bob", "a", 1));
  }

  @Test
  @DisplayName("a refusal lapses once the refused send is older than the idempotency window, when no client would retry it")
  void refusalLapses() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000, 10);
    assertEquals(ConversationOrder.Entry.GO, order.enter("bob", "a", "A"));
    order.refused("bob", "a", ErrorCode.UNAVAILABLE, 1_000);
    assertEquals(ErrorCode.UNAVAILABLE, order.blocked("bob", "b", 300_999));
    assertNull(order.blocked("bob", "b", 301_000));
    assertEquals(0, order.size());
  }

  @Test
  @DisplayName("a session holds at most maxHeld sends over all its conversations; once one is answered, another may wait")
  void heldSendsAreBounded() {
    ConversationOrder<String> order = new ConversationOrder<>(300_000, 2);
    assertEquals(ConversationOrder.Entry.GO, order.enter("bob", "a", "A"));
    assertEquals(ConversationOrder.Entry.GO, order.enter("carol", "c", "C"));
    assertEquals(ConversationOrder.Entry.HELD, order.enter("bob", "b", "B"));
    assertEquals(ConversationOrder.Entry.HELD, order.enter("carol", "d", "D"));
    assertEquals(ConversationOrder.Entry.FULL, order.enter("bob", "e", "E"));
    assertEquals(2, order.held());
    assertEquals("b", order.answered("bob").id());
    assertEquals(1, order.held());
    assertEquals(ConversationOrder.Entry.HELD, order.enter("bob", "e", "E"));
    assertEquals(List.of("d"), order.refused("carol", "c", ErrorCode.UNAVAILABLE, 0).stream().map(ConversationOrder.Held::id).toList());
    assertEquals(1, order.held());
  }
}
