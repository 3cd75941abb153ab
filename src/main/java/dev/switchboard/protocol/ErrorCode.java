package dev.switchboard.protocol;

import java.util.Locale;

/**
 * Every error Switchboard reports: in WebSocket {@code error} frames, in HTTP error bodies, and as
 * the failure code of event-bus replies. {@code docs/protocol.md} has a row for each (a test checks).
 */
public enum ErrorCode {
  BAD_JSON(400, "the frame or request body is not a JSON object, or nests deeper than allowed"),
  UNKNOWN_TYPE(400, "the frame's type is not one this protocol knows"),
  MISSING_FIELD(400, "a required field is absent"),
  INVALID_FIELD(400, "a field has the wrong type or an unacceptable value"),
  INVALID_USER(400, "a user or device id is empty, too long, or has forbidden characters"),
  NO_RECIPIENT(400, "a text frame without 'TO|' on a connection that has not named a recipient yet"),
  UNSUPPORTED_FRAME(400, "binary WebSocket frames are not accepted"),
  BAD_ENCODING(400, "a text frame is not valid UTF-8"),
  BAD_STATE(400, "the frame is not allowed now (for example ack before hello, or a second hello)"),
  INVALID_ACK(400, "ack names a seq this session has not been sent"),
  INVALID_TOKEN(401, "the token is missing, malformed, expired, wrongly signed, or for another user"),
  UNAUTHORIZED(401, "the push API needs a valid API key: Authorization: Bearer <key>"),
  FORBIDDEN(403, "the origin, or the API key, is not allowed to do this"),
  NOT_FOUND(404, "no such resource"),
  ID_REUSED(409, "the send id or Idempotency-Key was used for a different message within the idempotency window"),
  TOO_LARGE(413, "the message body, frame or request is larger than the configured limit"),
  UNSUPPORTED_MEDIA_TYPE(415, "the request body is not application/json"),
  INBOX_FULL(429, "the recipient's inbox holds the configured maximum of messages"),
  RATE_LIMITED(429, "more messages per second than this connection may send; slow down"),
  TOO_MANY_SESSIONS(429, "the user already has the configured maximum of live sessions"),
  INTERNAL(500, "an unexpected server error; the request may be retried with the same id"),
  UNAVAILABLE(503, "the store or a service did not answer in time; retry with the same id"),
  // Last: failure codes are ordinals, and nodes of the previous version must read the others alike.
  OVERLOADED(503, "this node is behind (on deliveries, or on storing) and takes no new messages for now; retry in a moment with the same id");

  private final int httpStatus;
  private final String meaning;

  ErrorCode(int httpStatus, String meaning) {
    this.httpStatus = httpStatus;
    this.meaning = meaning;
  }

  /** The code as it appears on the wire, e.g. {@code inbox_full}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public int httpStatus() {
    return httpStatus;
  }

  public String meaning() {
    return meaning;
  }

  /** The failure code used with {@code Message.fail}; distinct per error and stable across nodes of one version. */
  public int failureCode() {
    return 1000 + ordinal();
  }

  public static ErrorCode fromFailureCode(int code) {
    int index = code - 1000;
    ErrorCode[] all = values();
    return index >= 0 && index < all.length ? all[index] : UNAVAILABLE;
  }

  public static ErrorCode fromWireName(String wireName) {
    for (ErrorCode code : values()) {
      if (code.wireName().equals(wireName)) {
        return code;
      }
    }
    return INTERNAL;
  }
}
