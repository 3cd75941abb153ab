package dev.switchboard.gateway;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** Reads one parameter of a URL query string. */
final class QueryParams {

  private QueryParams() {
  }

  static String first(String query, String name) {
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (decode(key).equals(name)) {
        return eq < 0 ? "" : decode(pair.substring(eq + 1));
      }
    }
    return null;
  }

  /** How many times {@code name} appears in the query. */
  static int count(String query, String name) {
    if (query == null) {
      return 0;
    }
    int n = 0;
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      if (decode(eq < 0 ? pair : pair.substring(0, eq)).equals(name)) {
        n++;
      }
    }
    return n;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }
}
