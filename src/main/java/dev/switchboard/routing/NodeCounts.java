package dev.switchboard.routing;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * One user's entry in the user directory: how many sessions each node holds, written as
 * {@code node-a=2,node-b=1} with nodes sorted, so equal contents are equal strings (and parse
 * to the same cached counts).
 */
final class NodeCounts {

  private NodeCounts() {
  }

  static Map<String, Integer> parse(String entry) {
    Map<String, Integer> counts = new TreeMap<>();
    if (entry == null || entry.isEmpty()) {
      return counts;
    }
    for (String part : entry.split(",")) {
      int eq = part.lastIndexOf('=');
      counts.put(part.substring(0, eq), Integer.parseInt(part.substring(eq + 1)));
    }
    return counts;
  }

  /** The entry as a string, or null when no node holds a session any more. */
  static String format(Map<String, Integer> counts) {
    StringBuilder out = new StringBuilder();
    new TreeMap<>(counts).forEach((node, n) -> {
      if (n > 0) {
        out.append(out.length() == 0 ? "" : ",").append(node).append('=').append(n);
      }
    });
    return out.length() == 0 ? null : out.toString();
  }

  /** The entry after {@code delta} sessions joined (or left, when negative) on {@code node}. */
  static String adjust(String entry, String node, int delta) {
    Map<String, Integer> counts = parse(entry);
    counts.merge(node, delta, Integer::sum);
    return format(counts);
  }

  /** Sessions over all nodes of the entry. */
  static int total(String entry) {
    return parse(entry).values().stream().mapToInt(Integer::intValue).sum();
  }

  /** The entry without the nodes that are no longer alive. */
  static String retain(String entry, Predicate<String> alive) {
    Map<String, Integer> counts = parse(entry);
    counts.keySet().removeIf(alive.negate());
    return format(counts);
  }
}
