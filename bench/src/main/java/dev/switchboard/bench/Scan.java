package dev.switchboard.bench;

import java.nio.charset.StandardCharsets;

/**
 * Minimal field extraction from the server's flat JSON frames, without building objects: the
 * generator must parse hundreds of thousands of frames a second on one thread. It finds a
 * {@code "key"} and reads the value after the colon; values the tool reads are numbers or strings
 * without escapes (ids and tokens are made of [0-9a-z:.-]).
 */
final class Scan {

  private Scan() {
  }

  static byte[] key(String name) {
    return ('"' + name + '"').getBytes(StandardCharsets.US_ASCII);
  }

  /** Index of the first byte of the value of {@code key} (after colon and spaces), or -1. */
  static int valueStart(byte[] b, int len, byte[] key) {
    int i = indexOf(b, len, key, 0);
    while (i >= 0) {
      int j = i + key.length;
      while (j < len && (b[j] == ' ' || b[j] == '\t')) {
        j++;
      }
      if (j < len && b[j] == ':') {
        j++;
        while (j < len && (b[j] == ' ' || b[j] == '\t')) {
          j++;
        }
        return j;
      }
      i = indexOf(b, len, key, i + 1); // the text was inside a string value; look further
    }
    return -1;
  }

  static int indexOf(byte[] b, int len, byte[] key, int from) {
    outer:
    for (int i = from, last = len - key.length; i <= last; i++) {
      for (int k = 0; k < key.length; k++) {
        if (b[i + k] != key[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** A whole number value of {@code key}; {@code def} when absent or not a number. */
  static long number(byte[] b, int len, byte[] key, long def) {
    int i = valueStart(b, len, key);
    if (i < 0) {
      return def;
    }
    return parseLong(b, i, len, def);
  }

  static long parseLong(byte[] b, int i, int end, long def) {
    boolean neg = false;
    if (i < end && b[i] == '-') {
      neg = true;
      i++;
    }
    long v = 0;
    int start = i;
    while (i < end && b[i] >= '0' && b[i] <= '9') {
      v = v * 10 + (b[i] - '0');
      i++;
    }
    return i == start ? def : (neg ? -v : v);
  }

  /** Start of a string value (the byte after the opening quote), or -1. End is {@link #stringEnd}. */
  static int stringStart(byte[] b, int len, byte[] key) {
    int i = valueStart(b, len, key);
    return i >= 0 && i < len && b[i] == '"' ? i + 1 : -1;
  }

  /** Index of the closing quote of a string that starts at {@code from}; honours backslash escapes. */
  static int stringEnd(byte[] b, int len, int from) {
    for (int i = from; i < len; i++) {
      if (b[i] == '\\') {
        i++;
      } else if (b[i] == '"') {
        return i;
      }
    }
    return -1;
  }

  static String string(byte[] b, int len, byte[] key) {
    int s = stringStart(b, len, key);
    if (s < 0) {
      return null;
    }
    int e = stringEnd(b, len, s);
    return e < 0 ? null : new String(b, s, e - s, StandardCharsets.UTF_8);
  }

  /** Whether the string value of {@code key} is exactly {@code value} (given as {@link #key}-free ASCII bytes). */
  static boolean stringIs(byte[] b, int len, byte[] key, byte[] value) {
    int s = stringStart(b, len, key);
    if (s < 0 || s + value.length >= len || b[s + value.length] != '"') {
      return false;
    }
    for (int k = 0; k < value.length; k++) {
      if (b[s + k] != value[k]) {
        return false;
      }
    }
    return true;
  }

  /** The first byte of the string value of {@code "type"}, or 0. */
  static byte typeInitial(byte[] b, int len, byte[] typeKey) {
    int s = stringStart(b, len, typeKey);
    return s < 0 || s >= len ? 0 : b[s];
  }
}
