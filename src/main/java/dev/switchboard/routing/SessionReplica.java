package dev.switchboard.routing;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's copy of where the other nodes hold sessions: per user, each node's count as that node
 * last announced it, with the version the node gave that change (its versions only grow). A change
 * no newer than the one held is ignored, so announcements and snapshots may arrive in any order. A
 * count of zero is kept as a tombstone until a second {@link #sweep} finds it, so that a late older
 * announcement cannot bring a session back. Nodes that left the cluster are dropped, and ignored
 * from then on. Thread safe: every verticle of the node reads it, announcements change it.
 */
final class SessionReplica {

  /** One node's count of one user's sessions, as of the node's change {@code version}. */
  private record Count(int sessions, long version, boolean swept) {
  }

  /** One user's counts by node, and those above zero ready for lookups. Immutable. */
  private record Entry(Map<String, Count> byNode, Map<String, Integer> live) {

    static Entry of(Map<String, Count> byNode) {
      Map<String, Integer> live = new HashMap<>();
      byNode.forEach((node, count) -> {
        if (count.sessions() > 0) {
          live.put(node, count.sessions());
        }
      });
      return new Entry(byNode, live.isEmpty() ? Map.of() : Collections.unmodifiableMap(live));
    }
  }

  private final Map<String, Entry> users = new ConcurrentHashMap<>();
  private final Set<String> departed = ConcurrentHashMap.newKeySet();

  /**
   * Records that {@code node} holds {@code sessions} sessions of {@code user} as of its change
   * {@code version}; false when ignored (an older change, or a node that left).
   */
  boolean apply(String node, String user, int sessions, long version) {
    if (departed.contains(node)) {
      return false;
    }
    boolean[] applied = new boolean[1];
    users.compute(user, (u, entry) -> {
      Count held = entry == null ? null : entry.byNode().get(node);
      if (held != null && held.version() >= version) {
        return entry;
      }
      applied[0] = true;
      Map<String, Count> byNode = entry == null ? new HashMap<>() : new HashMap<>(entry.byNode());
      byNode.put(node, new Count(Math.max(sessions, 0), version, false));
      return Entry.of(byNode);
    });
    // A node that left while this change was applied: drop what it just wrote.
    if (applied[0] && departed.contains(node)) {
      dropFrom(user, node);
    }
    return applied[0];
  }

  /** The sessions of {@code user} per node, for the nodes holding any; an unmodifiable map. */
  Map<String, Integer> sessionsOf(String user) {
    Entry entry = users.get(user);
    return entry == null ? Map.of() : entry.live();
  }

  /** {@code node} left the cluster: its counts go, and what it still sends is ignored. */
  void dropNode(String node) {
    departed.add(node);
    for (String user : users.keySet()) {
      dropFrom(user, node);
    }
  }

  /**
   * Forgets the tombstones a previous sweep already found; marks the others for the next one.
   * Called periodically, so a tombstone lives between one and two periods.
   */
  void sweep() {
    for (String user : users.keySet()) {
      users.computeIfPresent(user, (u, entry) -> {
        Map<String, Count> byNode = new HashMap<>();
        boolean changed = false;
        for (Map.Entry<String, Count> held : entry.byNode().entrySet()) {
          Count count = held.getValue();
          if (count.sessions() > 0) {
            byNode.put(held.getKey(), count);
          } else if (!count.swept()) {
            byNode.put(held.getKey(), new Count(0, count.version(), true));
            changed = true;
          } else {
            changed = true;
          }
        }
        if (!changed) {
          return entry;
        }
        return byNode.isEmpty() ? null : Entry.of(byNode);
      });
    }
  }

  /** Users with an entry, tombstones included: what the replica holds in memory. */
  int size() {
    return users.size();
  }

  private void dropFrom(String user, String node) {
    users.computeIfPresent(user, (u, entry) -> {
      if (!entry.byNode().containsKey(node)) {
        return entry;
      }
      Map<String, Count> byNode = new HashMap<>(entry.byNode());
      byNode.remove(node);
      return byNode.isEmpty() ? null : Entry.of(byNode);
    });
  }
}
