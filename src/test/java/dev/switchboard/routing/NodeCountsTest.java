package dev.switchboard.routing;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class NodeCountsTest {

  @Test
  @DisplayName("entries count sessions per node, sorted, and vanish when the last session leaves")
  void adjust() {
    String one = NodeCounts.adjust(null, "n2", 1);
    assertEquals("n2=1", one);
    String two = NodeCounts.adjust(one, "n1", 1);
    assertEquals("n1=1,n2=1", two);
    assertEquals("n1=1,n2=2", NodeCounts.adjust(two, "n2", 1));
    assertNull(NodeCounts.adjust(NodeCounts.adjust(two, "n1", -1), "n2", -1));
    assertEquals(Map.of("n1", 1, "n2", 1), NodeCounts.parse(two));
  }

  @Test
  @DisplayName("sessions of nodes that left the cluster are dropped")
  void retain() {
    assertEquals("a=2", NodeCounts.retain("a=2,dead=5", Set.of("a", "b")::contains));
    assertNull(NodeCounts.retain("dead=5", Set.of("a")::contains));
  }
}
