package dev.switchboard.protocol;

/** A client's input broke a rule; carries the code to report and, when known, the client's frame id. */
public final class ProtocolException extends RuntimeException {

  private final ErrorCode code;
  private final String frameId;

  public ProtocolException(ErrorCode code, String message) {
    this(code, message, null);
  }

  public ProtocolException(ErrorCode code, String message, String frameId) {
    super(message, null, false, false);
    this.code = code;
    this.frameId = frameId;
  }

  public ErrorCode code() {
    return code;
  }

  public String frameId() {
    return frameId;
  }
}
