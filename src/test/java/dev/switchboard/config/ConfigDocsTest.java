package dev.switchboard.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's config table must list every key of conf/config.json, with its variable, and every
 * default the docs state must be the one that conf/config.json and the typed config records hold.
 */
class ConfigDocsTest {

  /** The reference docs a user reads defaults in; docs/benchmarks.md describes runs with their own settings. */
  static final List<Path> DOCS = List.of(Path.of("README.md"), Path.of("docs/protocol.md"), Path.of("docs/security.md"),
      Path.of("docs/event-bus.md"), Path.of("docs/client-js.md"));

  /** A table row: {@code | `section.key` | default | `SWITCHBOARD_...` | meaning |}. */
  static final Pattern ROW = Pattern.compile("(?m)^\\| `([a-z]+)\\.([A-Za-z]+)` \\| (.*?) \\| `SWITCHBOARD_[A-Z_]+`[^|]*\\| (.*) \\|$");

  /**
   * A key followed by a parenthesis, maybe one word between: {@code `limits.maxBodyBytes` (64 KiB)},
   * {@code `inbox.maxMessagesPerUser` messages (10,000)}.
   */
  static final Pattern MENTION = Pattern.compile("`([a-z]+)\\.([A-Za-z]+)`\\s+(?:([a-z]+)\\s+)?\\(([^)]*)\\)");

  /** A stated quantity: {@code 64 KiB}, {@code 1,000}, {@code 2 days}, {@code 20,000 copies}, maybe after "default". */
  static final Pattern QUANTITY = Pattern.compile("(?:default )?(\\d[\\d,]*)(?: ([A-Za-z]+))?");

  /** A stated string or list of strings: {@code `server`}, {@code default `/ws` and `/Handler1.ashx`}. */
  static final Pattern STRINGS = Pattern.compile("(?:default )?`([^`]*)`((?:(?:, | and |, and )`[^`]*`)*)");

  static final Map<String, Long> UNITS = Map.ofEntries(
      Map.entry("ms", 1L), Map.entry("s", 1_000L), Map.entry("min", 60_000L), Map.entry("h", 3_600_000L),
      Map.entry("day", 86_400_000L), Map.entry("days", 86_400_000L),
      Map.entry("bytes", 1L), Map.entry("KiB", 1024L), Map.entry("MiB", 1024L * 1024), Map.entry("GiB", 1024L * 1024 * 1024));

  static JsonObject defaults() throws IOException {
    return new JsonObject(Files.readString(Path.of(ConfigLoader.DEFAULTS_PATH)));
  }

  @Test
  @DisplayName("every configuration key has a README row naming its environment variable")
  void everyKeyIsDocumented() throws IOException {
    JsonObject defaults = defaults();
    String readme = Files.readString(Path.of("README.md"));
    for (String section : defaults.fieldNames()) {
      for (String key : defaults.getJsonObject(section).fieldNames()) {
        String row = "| `" + section + "." + key + "` |";
        assertTrue(readme.contains(row), "README.md lacks the row " + row);
        String env = ConfigLoader.envName(section, key);
        assertTrue(readme.contains("`" + env + "`"), "README.md lacks " + env);
      }
    }
  }

  @Test
  @DisplayName("every default in the README's config table is the value in conf/config.json")
  void tableDefaultsAreTheShippedOnes() throws IOException {
    JsonObject defaults = defaults();
    Matcher row = ROW.matcher(Files.readString(Path.of("README.md")));
    int rows = 0;
    while (row.find()) {
      rows++;
      String key = row.group(1) + "." + row.group(2);
      Object shipped = shipped(defaults, row.group(1), row.group(2));
      String cell = row.group(3);
      assertTrue(cell.startsWith("`") && cell.endsWith("`") && cell.length() > 1, key + ": default cell " + cell);
      assertEquals(normalize(shipped), normalize(tableValue(cell.substring(1, cell.length() - 1))),
          "README.md row " + key + " states default " + cell);
    }
    assertTrue(rows > 40, "found only " + rows + " config rows in README.md");
  }

  @Test
  @DisplayName("every default the docs state next to a key, in prose or a table's meaning column, is what the config holds")
  void statedDefaultsAreTheShippedOnes() throws IOException {
    JsonObject defaults = defaults();
    SwitchboardConfig typed = SwitchboardConfig.fromJson(defaults);
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (Path doc : DOCS) {
      String text = Files.readString(doc);
      Matcher mention = MENTION.matcher(text);
      while (mention.find()) {
        String section = mention.group(1);
        String key = mention.group(2);
        String stated = mention.group(4);
        boolean adjacent = mention.group(3) == null;
        if (shipped(defaults, section, key) == null) {
          continue; // an address or a file name, not a config key
        }
        String problem;
        if (adjacent && STRINGS.matcher(stated).matches()) {
          problem = checkStrings(defaults, section, key, stated);
        } else if (isQuantity(stated, false)) {
          problem = checkQuantity(defaults, typed, section, key, stated);
        } else {
          continue; // an explanation, not a value
        }
        checked++;
        if (problem != null) {
          wrong.add(doc + ": `" + section + "." + key + "` (" + stated + "): " + problem);
        }
      }
      // The meaning column of the README's table, e.g. "how long messages are kept (2 days)"; a bare
      // number there is something else (a status or close code).
      Matcher row = ROW.matcher(text);
      while (row.find()) {
        Matcher paren = Pattern.compile("\\(([^)]*)\\)").matcher(row.group(4));
        while (paren.find()) {
          if (isQuantity(paren.group(1), true)) {
            checked++;
            String problem = checkQuantity(defaults, typed, row.group(1), row.group(2), paren.group(1));
            if (problem != null) {
              wrong.add(doc + ": row `" + row.group(1) + "." + row.group(2) + "` (" + paren.group(1) + "): " + problem);
            }
          }
        }
      }
    }
    assertTrue(checked > 25, "found only " + checked + " stated defaults");
    assertEquals(List.of(), wrong);
  }

  /** A local URL in the docs: {@code http://127.0.0.1:8081/health}, {@code ws://HOST:8080/ws}. */
  static final Pattern LOCAL_URL = Pattern.compile("(?:https?|wss?)://(?:127\\.0\\.0\\.1|localhost|host|HOST):(\\d+)(/[^\\s)`'\"<>]*)?");

  /** A boolean default in prose: {@code `key` is true (the default)}, {@code `key` is true (default false}, {@code `key`, on by default}. */
  static final Pattern BOOLEAN = Pattern.compile(
      "`([a-z]+)\\.([A-Za-z]+)`(?:\\s+is\\s+(true|false)\\s+\\((?:the (default)|default (true|false))|,\\s+(on|off) by default)");

  @Test
  @DisplayName("every local URL in the docs uses a default port: the push API's for /api and /health, the gateway's for other paths")
  void urlsUseTheDefaultPorts() throws IOException {
    SwitchboardConfig typed = SwitchboardConfig.fromJson(defaults());
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (Path doc : DOCS) {
      Matcher url = LOCAL_URL.matcher(Files.readString(doc));
      while (url.find()) {
        checked++;
        int port = Integer.parseInt(url.group(1));
        String path = url.group(2);
        if (path == null) {
          // A bare base or origin may be either server's.
          if (port != typed.push().port() && port != typed.gateway().port()) {
            wrong.add(doc + ": " + url.group() + " (gateway.port is " + typed.gateway().port() + ", push.port "
                + typed.push().port() + ")");
          }
          continue;
        }
        boolean push = path.startsWith("/api/") || path.startsWith("/health");
        int expected = push ? typed.push().port() : typed.gateway().port();
        if (port != expected) {
          wrong.add(doc + ": " + url.group() + " (" + (push ? "push.port" : "gateway.port") + " is " + expected + ")");
        }
      }
    }
    assertTrue(checked > 10, "found only " + checked + " local URLs");
    assertEquals(List.of(), wrong);
  }

  @Test
  @DisplayName("every boolean default stated in prose (\"is true (the default)\", \"default false\", \"on by default\") is the shipped one")
  void booleanDefaultsAreTheShippedOnes() throws IOException {
    JsonObject defaults = defaults();
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (Path doc : DOCS) {
      Matcher stated = BOOLEAN.matcher(Files.readString(doc));
      while (stated.find()) {
        checked++;
        boolean value = stated.group(4) != null ? Boolean.parseBoolean(stated.group(3))
            : stated.group(5) != null ? Boolean.parseBoolean(stated.group(5))
            : "on".equals(stated.group(6));
        Object shipped = shipped(defaults, stated.group(1), stated.group(2));
        if (!Boolean.valueOf(value).equals(shipped)) {
          wrong.add(doc + ": " + stated.group() + " (conf/config.json: " + shipped + ")");
        }
      }
    }
    assertTrue(checked >= 3, "found only " + checked + " boolean defaults");
    assertEquals(List.of(), wrong);
  }

  /** A number, with a unit if {@code unitRequired}; without, a following word is a noun ({@code 1,000 appends}). */
  private static boolean isQuantity(String stated, boolean unitRequired) {
    Matcher quantity = QUANTITY.matcher(stated);
    return quantity.matches() && (!unitRequired || quantity.group(2) != null && UNITS.containsKey(quantity.group(2)));
  }

  private static String checkStrings(JsonObject defaults, String section, String key, String stated) {
    Matcher strings = STRINGS.matcher(stated);
    strings.matches();
    List<String> values = new ArrayList<>();
    values.add(strings.group(1));
    Matcher more = Pattern.compile("`([^`]*)`").matcher(strings.group(2));
    while (more.find()) {
      values.add(more.group(1));
    }
    Object shipped = shipped(defaults, section, key);
    Object expected = shipped instanceof JsonArray array ? array.getList() : List.of(String.valueOf(shipped));
    return expected.equals(values) ? null : "the config holds " + shipped;
  }

  /**
   * Compares a stated quantity with the typed record's value where a component holds the key
   * ({@code idleTimeoutSeconds} or its {@code idleTimeoutMillis}), else with conf/config.json.
   * Without a unit, the number is in the key's own unit.
   */
  private static String checkQuantity(JsonObject defaults, SwitchboardConfig typed, String section, String key, String stated) {
    Matcher quantity = QUANTITY.matcher(stated);
    quantity.matches();
    String unit = quantity.group(2);
    long number = Long.parseLong(quantity.group(1).replace(",", ""));
    Object[] value = typedValue(typed, section, key);
    String name = value == null ? key : (String) value[0];
    Object raw = value == null ? shipped(defaults, section, key) : value[1];
    if (!(raw instanceof Number held)) {
      return "the config holds " + raw + ", not a number";
    }
    long keyScale = scaleOf(name);
    long statedBase = number * (unit != null && UNITS.containsKey(unit) ? UNITS.get(unit) : keyScale);
    return statedBase == held.longValue() * keyScale ? null : "the config holds " + name + " = " + held;
  }

  /** What one unit of a key's value is in base units (milliseconds, bytes), from its name. */
  private static long scaleOf(String name) {
    if (name.endsWith("Millis")) {
      return 1;
    }
    if (name.endsWith("Seconds")) {
      return 1_000;
    }
    if (name.endsWith("Megabytes")) {
      return 1024 * 1024;
    }
    return 1;
  }

  /** The component of the section's record that holds the key, as {name, value}; null when none does. */
  private static Object[] typedValue(SwitchboardConfig typed, String section, String key) {
    try {
      Object record = SwitchboardConfig.class.getMethod(section).invoke(typed);
      for (String name : List.of(key, key.replaceAll("Seconds$", "Millis"))) {
        for (RecordComponent component : record.getClass().getRecordComponents()) {
          if (component.getName().equals(name)) {
            return new Object[] {name, component.getAccessor().invoke(record)};
          }
        }
      }
      return null;
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("no typed record for section " + section, e);
    }
  }

  private static Object shipped(JsonObject defaults, String section, String key) {
    JsonObject values = defaults.getJsonObject(section);
    return values == null ? null : values.getValue(key);
  }

  /** A table cell's value: JSON where it parses ({@code 8080}, {@code true}, {@code ["/ws"]}, {@code ""}), else the text. */
  private static Object tableValue(String text) {
    try {
      return Json.decodeValue(text);
    } catch (DecodeException notJson) {
      return text;
    }
  }

  private static Object normalize(Object value) {
    if (value instanceof Number n) {
      return n.longValue();
    }
    if (value instanceof JsonArray array) {
      return array.getList();
    }
    return value;
  }
}
