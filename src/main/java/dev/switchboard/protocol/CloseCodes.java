package dev.switchboard.protocol;

/** WebSocket close codes the gateway uses, and what a client should do on each. */
public final class CloseCodes {

  /** The server is shutting down or restarting: reconnect (to another node if there is one). */
  public static final short SERVICE_RESTART = 1012;
  /** The connection could not be accepted as asked (bad user id): do not retry unchanged. */
  public static final short POLICY_VIOLATION = 1008;
  /** The server could not read the inbox: reconnect with back-off. */
  public static final short INTERNAL_ERROR = 1011;
  /** Nothing was heard from the client within the idle timeout: reconnect. */
  public static final short IDLE_TIMEOUT = 4000;

  private CloseCodes() {
  }
}
