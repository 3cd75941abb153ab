package dev.switchboard.protocol;

/**
 * Measures how deep a JSON text nests before anything parses it, so a frame of ten thousand
 * {@code [} costs a scan, not a parser's stack. Brackets inside strings do not count.
 */
public final class JsonDepth {

  private JsonDepth() {
  }

  public static boolean exceeds(CharSequence json, int maxDepth) {
    int depth = 0;
    boolean inString = false;
    for (int i = 0, n = json.length(); i < n; i++) {
      char c = json.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        if (++depth > maxDepth) {
          return true;
        }
      } else if (c == '}' || c == ']') {
        depth--;
      }
    }
    return false;
  }
}
