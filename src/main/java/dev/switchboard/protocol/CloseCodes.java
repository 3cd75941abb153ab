package dev.switchboard.protocol;

/** WebSocket close codes the gateway uses, and what a client should do on each. */
public final class CloseCodes {

  /** The server is shutting down or restarting: reconnect (to another node if there is one). */
  public static final short SERVICE_RESTART = 1012;
  /** The connection could not be accepted as asked (bad user id): do not retry unchanged. */
  public static final short POLICY_VIOLATION = 1008;
  /** A frame broke the WebSocket protocol (such as compressed without compression negotiated). */
  public static final short PROTOCOL_ERROR = 1002;
  /** A compressed frame could not be inflated. */
  public static final short INVALID_PAYLOAD = 1007;
  /** A single frame, or its inflated content, was larger than {@code gateway.maxFrameBytes}. */
  public static final short MESSAGE_TOO_BIG = 1009;
  /** The server could not read the inbox: reconnect with back-off. */
  public static final short INTERNAL_ERROR = 1011;
  /** The client kept sending over its rate limit: reconnect later, and slower. */
  public static final short RATE_LIMITED = 4002;
  /** Nothing was heard from the client within the idle timeout: reconnect. */
  public static final short IDLE_TIMEOUT = 4000;
  /** The session's token expired and was not refreshed: reconnect with a new token. */
  public static final short TOKEN_EXPIRED = 4001;

  private static final int MAX_REASON_BYTES = 123;

  private CloseCodes() {
  }

  /** A close reason that fits a close frame (at most 123 bytes of UTF-8). */
  public static String reason(String text) {
    if (Utf8.length(text) <= MAX_REASON_BYTES) {
      return text;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      String next = new String(Character.toChars(cp));
      if (Utf8.length(out) + Utf8.length(next) > MAX_REASON_BYTES) {
        break;
      }
      out.append(next);
      i += Character.charCount(cp);
    }
    return out.toString();
  }
}
