package dev.switchboard.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** {@code --name value} and bare {@code --flag} options; reports options nobody asked for. */
final class Args {

  private final Map<String, String> values = new LinkedHashMap<>();
  private final Set<String> used = new TreeSet<>();

  Args(String[] argv, int from) {
    for (int i = from; i < argv.length; i++) {
      String a = argv[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument: " + a);
      }
      String name = a.substring(2);
      int eq = name.indexOf('=');
      if (eq > 0) {
        values.put(name.substring(0, eq), name.substring(eq + 1));
      } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
        values.put(name, argv[++i]);
      } else {
        values.put(name, "true");
      }
    }
  }

  boolean has(String name) {
    used.add(name);
    return values.containsKey(name);
  }

  String str(String name, String def) {
    used.add(name);
    return values.getOrDefault(name, def);
  }

  int integer(String name, int def) {
    String v = str(name, null);
    return v == null ? def : (int) parseCount(name, v);
  }

  long lng(String name, long def) {
    String v = str(name, null);
    return v == null ? def : parseCount(name, v);
  }

  double dbl(String name, double def) {
    String v = str(name, null);
    try {
      return v == null ? def : Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " wants a number, got " + v);
    }
  }

  /** A comma-separated list of whole numbers ({@code --ws-ports 8080,8082}); {@code def} when absent. */
  long[] longs(String name, long[] def) {
    String v = str(name, null);
    if (v == null) {
      return def;
    }
    String[] parts = v.split(",");
    long[] out = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = parseCount(name, parts[i]);
    }
    return out;
  }

  boolean flag(String name) {
    String v = str(name, null);
    return v != null && !v.equals("false") && !v.equals("0");
  }

  /** Whole numbers; accepts 10k / 2m suffixes. */
  private static long parseCount(String name, String v) {
    try {
      String s = v.trim().toLowerCase();
      long mult = 1;
      if (s.endsWith("k")) {
        mult = 1_000;
        s = s.substring(0, s.length() - 1);
      } else if (s.endsWith("m")) {
        mult = 1_000_000;
        s = s.substring(0, s.length() - 1);
      }
      return Math.round(Double.parseDouble(s) * mult);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " wants a whole number, got " + v);
    }
  }

  /** Options given but never read: most likely typos. */
  Set<String> unused() {
    Set<String> s = new TreeSet<>(values.keySet());
    s.removeAll(used);
    return s;
  }
}
