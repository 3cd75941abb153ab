package dev.switchboard.routing;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The replica of other nodes' sessions: newest change per node wins, whatever order changes arrive in. */
class SessionReplicaTest {

  private final SessionReplica replica = new SessionReplica();

  @Test
  @DisplayName("each node's count is its newest change; an older one arriving late is ignored")
  void newestChangeWins() {
    assertTrue(replica.apply("b", "ann", 2, 5));
    assertTrue(replica.apply("c", "ann", 1, 3));
    assertFalse(replica.apply("b", "ann", 1, 4));
    assertFalse(replica.apply("b", "ann", 7, 5));
    assertEquals(Map.of("b", 2, "c", 1), replica.sessionsOf("ann"));
    assertTrue(replica.apply("b", "ann", 1, 6));
    assertEquals(Map.of("b", 1, "c", 1), replica.sessionsOf("ann"));
    assertEquals(Map.of(), replica.sessionsOf("nobody"));
    assertThrows(UnsupportedOperationException.class, () -> replica.sessionsOf("ann").put("d", 1));
  }

  @Test
  @DisplayName("a count of zero hides the node and holds back older changes, also when nothing was known before, "
      + "until two sweeps have passed")
  void zeroIsATombstone() {
    replica.apply("b", "ann", 1, 1);
    replica.apply("b", "ann", 0, 3);
    assertEquals(Map.of(), replica.sessionsOf("ann"));
    assertFalse(replica.apply("b", "ann", 1, 2), "a join older than the leave brought the session back");
    // A leave that overtook the join it follows (a snapshot arriving after a newer change).
    assertTrue(replica.apply("c", "bob", 0, 9));
    assertFalse(replica.apply("c", "bob", 1, 8));
    assertEquals(Map.of(), replica.sessionsOf("bob"));
    replica.sweep();
    assertFalse(replica.apply("b", "ann", 1, 2), "the first sweep only marks");
    assertEquals(2, replica.size());
    replica.sweep();
    assertEquals(0, replica.size());
  }

  @Test
  @DisplayName("a sweep keeps live counts and a tombstone changed since it was marked")
  void sweepKeepsLiveCounts() {
    replica.apply("b", "ann", 2, 1);
    replica.apply("c", "ann", 0, 2);
    replica.sweep();
    replica.apply("c", "ann", 1, 3);
    replica.sweep();
    replica.sweep();
    assertEquals(Map.of("b", 2, "c", 1), replica.sessionsOf("ann"));
  }

  @Test
  @DisplayName("a node that left is dropped, and what it sends afterwards is ignored")
  void departedNodes() {
    replica.apply("b", "ann", 1, 1);
    replica.apply("c", "ann", 1, 1);
    replica.apply("b", "bob", 3, 2);
    replica.dropNode("b");
    assertEquals(Map.of("c", 1), replica.sessionsOf("ann"));
    assertEquals(Map.of(), replica.sessionsOf("bob"));
    assertFalse(replica.apply("b", "bob", 1, 9));
    assertEquals(Map.of(), replica.sessionsOf("bob"));
    assertEquals(1, replica.size());
  }
}
