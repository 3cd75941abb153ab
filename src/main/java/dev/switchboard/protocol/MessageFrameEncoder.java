package dev.switchboard.protocol;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes {@code message} frames straight into UTF-8 bytes: the bytes of
 * {@link ServerFrames#message} in one array of the exact size. Building a string first cost three
 * arrays per delivered frame (the builder's, the string's, and the socket's UTF-8 copy), the largest
 * share of the bytes the server allocates while fanning out.
 *
 * <p>The copies of one push share one body string, so the body's escaped form is kept for the
 * last body seen (compared by identity) and escaped once per push, not once per recipient. Not
 * thread-safe: one encoder per event loop.
 */
public final class MessageFrameEncoder {

  private static final byte[] TYPE_AND_MSG_ID = ascii("{\"type\":\"message\",\"msgId\":");
  private static final byte[] SEQ = ascii(",\"seq\":");
  private static final byte[] FROM = ascii(",\"from\":");
  private static final byte[] PUSH = ascii(",\"push\":true");
  private static final byte[] TO = ascii(",\"to\":");
  private static final byte[] BODY = ascii(",\"body\":");
  private static final byte[] TS = ascii(",\"ts\":");
  private static final byte[] NULL = ascii("null");
  private static final byte[] CLOSE = ascii("}");

  private static final int SCRATCH_KEPT = 64 * 1024;

  private byte[] scratch = new byte[512];
  private int length;
  private String lastBody;
  private byte[] lastBodyJson;

  public byte[] message(String msgId, long seq, String from, String to, String body, long ts) {
    return message(msgId, seq, from, false, to, body, ts);
  }

  /** {@link ServerFrames#message(String, long, String, boolean, String, String, long)} as UTF-8. */
  public byte[] message(String msgId, long seq, String from, boolean push, String to, String body, long ts) {
    byte[] bodyJson = bodyJson(body);
    length = 0;
    put(TYPE_AND_MSG_ID);
    putString(msgId);
    put(SEQ);
    putLong(seq);
    put(FROM);
    putString(from);
    if (push) {
      put(PUSH);
    }
    put(TO);
    putString(to);
    put(BODY);
    put(bodyJson);
    put(TS);
    putLong(ts);
    put(CLOSE);
    return take();
  }

  private byte[] bodyJson(String body) {
    if (body != lastBody || lastBodyJson == null) {
      length = 0;
      putString(body);
      lastBodyJson = take();
      lastBody = body;
    }
    return lastBodyJson;
  }

  /** The bytes written so far; a scratch array grown by one large message is not kept. */
  private byte[] take() {
    byte[] written = Arrays.copyOf(scratch, length);
    if (scratch.length > SCRATCH_KEPT) {
      scratch = new byte[512];
    }
    return written;
  }

  /** A JSON string, escaped as Jackson escapes it; plain ASCII (the ids) is copied as it is. */
  private void putString(String s) {
    if (s == null) {
      put(NULL);
      return;
    }
    int n = s.length();
    if (isPlainAscii(s, n)) {
      reserve(length + n + 2);
      scratch[length++] = '"';
      for (int i = 0; i < n; i++) {
        scratch[length++] = (byte) s.charAt(i);
      }
      scratch[length++] = '"';
      return;
    }
    byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(s);
    reserve(length + escaped.length + 2);
    scratch[length++] = '"';
    System.arraycopy(escaped, 0, scratch, length, escaped.length);
    length += escaped.length;
    scratch[length++] = '"';
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

  private void putLong(long value) {
    if (value < 0) {
      put(ascii(Long.toString(value)));
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
      scratch[--at] = (byte) ('0' + rest % 10);
      rest /= 10;
    } while (rest > 0);
    length += digits;
  }

  private void put(byte[] bytes) {
    reserve(length + bytes.length);
    System.arraycopy(bytes, 0, scratch, length, bytes.length);
    length += bytes.length;
  }

  private void reserve(int capacity) {
    if (capacity > scratch.length) {
      scratch = Arrays.copyOf(scratch, Math.max(capacity, scratch.length * 2));
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
