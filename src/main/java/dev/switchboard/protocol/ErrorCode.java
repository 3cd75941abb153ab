package dev.switchboard.protocol;

import java.util.Locale;

/**
 * Every error Switchboard reports: in WebSocket {@code error} frames, in HTTP error bodies, and as
 * the failure code of event-bus replies. {@code docs/protocol.md} has a row for each (a test checks).
 *
 * <p>Each code's failure number is fixed here, not derived from its position: publishers and nodes of
 * other versions compare numbers, so a number is never changed or reused, and a new code takes a new
 * one. Codes may be listed in any order.
 */
public enum ErrorCode {
  BAD_JSON(1000, 400, false, "the frame or request body is not a JSON object, or nests deeper than allowed"),
  UNKNOWN_TYPE(1001, 400, false, "the frame's type is not one this protocol knows"),
  MISSING_FIELD(1002, 400, false, "a required field is absent"),
  INVALID_FIELD(1003, 400, false, "a field has the wrong type or an unacceptable value"),
  INVALID_USER(1004, 400, false, "a user or device id is empty, too long, or has forbidden characters"),
  NO_RECIPIENT(1005, 400, false, "a text frame without 'TO|' on a connection that has not named a recipient yet"),
  UNSUPPORTED_FRAME(1006, 400, false, "binary WebSocket frames are not accepted"),
  BAD_ENCODING(1007, 400, false, "a text frame is not valid UTF-8"),
  BAD_STATE(1008, 400, false, "the frame is not allowed now (for example ack before hello, or a second hello)"),
  INVALID_ACK(1009, 400, false, "ack names a seq this session has not been sent"),
  INVALID_TOKEN(1010, 401, false, "the token is missing, malformed, expired, wrongly signed, or for another user"),
  UNAUTHORIZED(1011, 401, false, "the push API needs a valid API key: Authorization: Bearer <key>"),
  FORBIDDEN(1012, 403, false, "the origin, or the API key, is not allowed to do this"),
  NOT_FOUND(1013, 404, false, "no such resource"),
  ID_REUSED(1014, 409, false, "the send id or Idempotency-Key was used for a different message within the idempotency window"),
  TOO_LARGE(1015, 413, false, "the message body, frame or request is larger than the configured limit"),
  UNSUPPORTED_MEDIA_TYPE(1016, 415, false, "the request body is not application/json"),
  INBOX_FULL(1017, 429, false, "the recipient's inbox holds the configured maximum of messages"),
  RATE_LIMITED(1018, 429, true, "more messages per second than this connection may send; slow down"),
  TOO_MANY_SESSIONS(1019, 429, true, "the user already has the configured maximum of live sessions"),
  INTERNAL(1020, 500, true, "an unexpected server error; the request may be retried with the same id"),
  UNAVAILABLE(1021, 503, true, "the store or a service did not answer in time; retry with the same id"),
  OVERLOADED(1022, 503, true, "this node is behind (on deliveries, or on storing) and takes no new messages for now; retry in a moment with the same id"),
  ROOM_NOT_FOUND(1023, 404, false, "no room with this id"),
  NOT_A_MEMBER(1024, 403, false, "the user is not a member of the room (to send to it, list it, or be removed from it)"),
  NOT_OWNER(1025, 403, false, "only the room's owner adds and removes other members"),
  ROOM_FULL(1026, 409, false, "the room has the configured maximum of members"),
  TOO_MANY_ROOMS(1027, 409, false, "the user is a member of the configured maximum of rooms"),
  ROOM_EXISTS(1028, 409, false, "a room with this id exists already"),
  ROOM_TOO_BIG(1029, 409, false, "the room has more members than limits.roomReceiptMembers: its messages take no delivered receipt and it takes no read receipt");

  private final int failureCode;
  private final int httpStatus;
  private final boolean retryable;
  private final String meaning;

  ErrorCode(int failureCode, int httpStatus, boolean retryable, String meaning) {
    this.failureCode = failureCode;
    this.httpStatus = httpStatus;
    this.retryable = retryable;
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

  /** The failure code used with {@code Message.fail}: distinct per error, and the same in every version. */
  public int failureCode() {
    return failureCode;
  }

  /**
   * Whether the same request may succeed later unchanged (after a pause, with the same id), as the
   * browser client retries it; other codes would be refused again until the request changes.
   */
  public boolean retryable() {
    return retryable;
  }

  /** The code with this failure number; a number this version does not know reads as {@link #UNAVAILABLE}. */
  public static ErrorCode fromFailureCode(int failureCode) {
    for (ErrorCode code : values()) {
      if (code.failureCode == failureCode) {
        return code;
      }
    }
    return UNAVAILABLE;
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
