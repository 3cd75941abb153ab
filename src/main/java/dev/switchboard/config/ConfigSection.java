package dev.switchboard.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Typed, validated reads from one section of the configuration. Every error names the full key,
 * so a bad value reads as {@code gateway.port must be 0..65535, got 70000}.
 */
final class ConfigSection {

  private final String name;
  private final JsonObject json;

  ConfigSection(JsonObject root, String name) {
    this.name = name;
    Object section = root.getValue(name);
    if (!(section instanceof JsonObject object)) {
      throw new IllegalArgumentException("config section '" + name + "' is missing or not an object");
    }
    this.json = object;
  }

  String key(String key) {
    return name + "." + key;
  }

  private Object required(String key) {
    Object value = json.getValue(key);
    if (value == null) {
      throw new IllegalArgumentException(key(key) + " is missing");
    }
    return value;
  }

  /** The raw value of a required key. */
  Object raw(String key) {
    return required(key);
  }

  /** A string that may be empty. */
  String optionalString(String key) {
    Object value = required(key);
    if (!(value instanceof String s)) {
      throw new IllegalArgumentException(key(key) + " must be a string");
    }
    return s;
  }

  String string(String key) {
    Object value = required(key);
    if (!(value instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException(key(key) + " must be a non-empty string");
    }
    return s;
  }

  long longIn(String key, long min, long max) {
    Object value = required(key);
    long number;
    if (value instanceof Number n && n.doubleValue() == n.longValue()) {
      number = n.longValue();
    } else if (value instanceof String s && s.matches("-?\\d+")) {
      number = Long.parseLong(s);
    } else {
      throw new IllegalArgumentException(key(key) + " must be a whole number, got " + value);
    }
    if (number < min || number > max) {
      throw new IllegalArgumentException(key(key) + " must be " + min + ".." + max + ", got " + number);
    }
    return number;
  }

  int intIn(String key, int min, int max) {
    return (int) longIn(key, min, max);
  }

  boolean bool(String key) {
    Object value = required(key);
    if (value instanceof Boolean b) {
      return b;
    }
    if (value instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(s);
    }
    throw new IllegalArgumentException(key(key) + " must be true or false, got " + value);
  }

  /** A list of strings, given either as a JSON array or (from an environment variable) comma-separated. */
  List<String> strings(String key) {
    Object value = required(key);
    List<String> out = new ArrayList<>();
    if (value instanceof JsonArray array) {
      for (Object item : array) {
        if (!(item instanceof String s) || s.isBlank()) {
          throw new IllegalArgumentException(key(key) + " must hold only non-empty strings");
        }
        out.add(s);
      }
    } else if (value instanceof String s) {
      for (String part : s.split(",")) {
        if (!part.isBlank()) {
          out.add(part.trim());
        }
      }
    } else {
      throw new IllegalArgumentException(key(key) + " must be a list of strings");
    }
    return List.copyOf(out);
  }

  String oneOf(String key, List<String> allowed) {
    String value = string(key).toUpperCase();
    if (!allowed.contains(value)) {
      throw new IllegalArgumentException(key(key) + " must be one of " + allowed + ", got " + value);
    }
    return value;
  }

  /** A URI whose scheme is one of {@code schemes}, e.g. {@code postgresql://user@host:5432/db}. */
  String uri(String key, List<String> schemes) {
    String value = string(key);
    int colon = value.indexOf("://");
    if (colon < 0 || !schemes.contains(value.substring(0, colon))) {
      throw new IllegalArgumentException(key(key) + " must be a URI starting with " + schemes.get(0) + "://");
    }
    return value;
  }
}
