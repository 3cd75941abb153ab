package dev.switchboard.routing;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * Directory entries already parsed, by their text: most users' entries are one of a few strings
 * ({@code node=1}, ...), and a push to thousands of users looks every one of them up. Not thread
 * safe: each directory uses its own from its verticle's event loop.
 */
final class ParsedCounts {

  private static final int KEPT = 256;

  private final Map<String, Map<String, Integer>> parsed = new HashMap<>();

  /** {@link NodeCounts#parse} of {@code entry}, unmodifiable; empty for no entry. */
  Map<String, Integer> of(String entry) {
    if (entry == null) {
      return Map.of();
    }
    Map<String, Integer> counts = parsed.get(entry);
    if (counts == null) {
      if (parsed.size() >= KEPT) {
        parsed.clear();
      }
      counts = Collections.unmodifiableMap(NodeCounts.parse(entry));
      parsed.put(entry, counts);
    }
    return counts;
  }
}
