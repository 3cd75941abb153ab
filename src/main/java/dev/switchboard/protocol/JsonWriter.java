package dev.switchboard.protocol;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes JSON straight into UTF-8 bytes, field by field in the caller's order, with the bytes
 * {@code JsonObject.encode()} gives for the same fields (Jackson's escaping): the one way frames and
 * records written per message are encoded, without a Jackson generator or a JSON tree per call.
 *
 * <p>Field names are ASCII constants of the protocol and are written as they are. A writer can be
 * reused: {@link #take()} and {@link #takeString()} return what was written and start over. Not
 * thread-safe.
 */
public final class JsonWriter {

  /** A buffer grown past this by one large value is dropped after use rather than kept. */
  private static final int KEPT_CAPACITY = 64 * 1024;
  private static final byte[] NULL = {'n', 'u', 'l', 'l'};
  private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
  private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};

  private final int initialCapacity;
  private byte[] bytes;
  private int length;
  private boolean afterValue;

  public JsonWriter() {
    this(128);
  }

  public JsonWriter(int initialCapacity) {
    this.initialCapacity = initialCapacity;
    this.bytes = new byte[initialCapacity];
  }

  /** {@code value} as a JSON string's bytes, quotes included; for a value written into many frames. */
  public static byte[] quoted(String value) {
    JsonWriter writer = new JsonWriter((value == null ? 4 : value.length()) + 2);
    writer.string(value);
    return writer.take();
  }

  public JsonWriter beginObject() {
    separate();
    return open('{');
  }

  public JsonWriter endObject() {
    return close('}');
  }

  /** Opens the array field {@code name}: objects written next are its elements. */
  public JsonWriter beginArray(String name) {
    name(name);
    return open('[');
  }

  public JsonWriter endArray() {
    return close(']');
  }

  /** A string field; {@code null} is written as JSON null, as {@code JsonObject} writes it. */
  public JsonWriter field(String name, String value) {
    name(name);
    string(value);
    return this;
  }

  public JsonWriter field(String name, long value) {
    name(name);
    number(value);
    return this;
  }

  public JsonWriter field(String name, boolean value) {
    return rawField(name, value ? TRUE : FALSE);
  }

  /** A string element of the array being written. */
  public JsonWriter value(String value) {
    separate();
    string(value);
    afterValue = true;
    return this;
  }

  /** A field whose value is already JSON ({@link #quoted}). */
  public JsonWriter rawField(String name, byte[] json) {
    name(name);
    put(json);
    return this;
  }

  /**
   * The fields of {@code object}, a JSON object already encoded, as fields of the object being
   * written: copied as they are, never parsed.
   */
  public JsonWriter fieldsOf(String object) {
    byte[] encoded = object.getBytes(StandardCharsets.UTF_8);
    if (encoded.length > 2) {
      separate();
      reserve(length + encoded.length - 2);
      System.arraycopy(encoded, 1, bytes, length, encoded.length - 2);
      length += encoded.length - 2;
      afterValue = true;
    }
    return this;
  }

  /** The bytes written, in an array of their exact size; the writer starts over. */
  public byte[] take() {
    byte[] written = Arrays.copyOf(bytes, length);
    reset();
    return written;
  }

  /** What was written, as a string; the writer starts over. */
  public String takeString() {
    String written = new String(bytes, 0, length, StandardCharsets.UTF_8);
    reset();
    return written;
  }

  private void reset() {
    length = 0;
    afterValue = false;
    if (bytes.length > KEPT_CAPACITY) {
      bytes = new byte[initialCapacity];
    }
  }

  private void separate() {
    if (afterValue) {
      put((byte) ',');
    }
  }

  private void name(String name) {
    separate();
    int n = name.length();
    reserve(length + n + 3);
    bytes[length++] = '"';
    for (int i = 0; i < n; i++) {
      bytes[length++] = (byte) name.charAt(i);
    }
    bytes[length++] = '"';
    bytes[length++] = ':';
    // Its value follows at once, so whatever comes next is separated from it.
    afterValue = true;
  }

  private JsonWriter open(char bracket) {
    put((byte) bracket);
    afterValue = false;
    return this;
  }

  private JsonWriter close(char bracket) {
    put((byte) bracket);
    afterValue = true;
    return this;
  }

  /** A JSON string, escaped as Jackson escapes it; plain ASCII (ids, mostly) is copied as it is. */
  private void string(String s) {
    if (s == null) {
      put(NULL);
      return;
    }
    int n = s.length();
    if (isPlainAscii(s, n)) {
      reserve(length + n + 2);
      bytes[length++] = '"';
      for (int i = 0; i < n; i++) {
        bytes[length++] = (byte) s.charAt(i);
      }
      bytes[length++] = '"';
      return;
    }
    byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(s);
    reserve(length + escaped.length + 2);
    bytes[length++] = '"';
    System.arraycopy(escaped, 0, bytes, length, escaped.length);
    length += escaped.length;
    bytes[length++] = '"';
  }

  private static boolean isPlainAscii(String s, int n) {
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
        return false;
      }
    }
    return true;
  }

  private void number(long value) {
    if (value < 0) {
      put(Long.toString(value).getBytes(StandardCharsets.US_ASCII));
      return;
    }
    reserve(length + 20);
    int digits = 1;
    for (long rest = value / 10; rest > 0; rest /= 10) {
      digits++;
    }
    int at = length + digits;
    long rest = value;
    do {
      bytes[--at] = (byte) ('0' + rest % 10);
      rest /= 10;
    } while (rest > 0);
    length += digits;
  }

  private void put(byte b) {
    reserve(length + 1);
    bytes[length++] = b;
  }

  private void put(byte[] values) {
    reserve(length + values.length);
    System.arraycopy(values, 0, bytes, length, values.length);
    length += values.length;
  }

  private void reserve(int capacity) {
    if (capacity > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(capacity, bytes.length * 2));
    }
  }
}
