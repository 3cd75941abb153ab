package dev.switchboard.auth;

/**
 * Who a connection acts as, and until when.
 *
 * @param expiresAtMillis the token's {@code exp}, 0 when there is none
 * @param endsAtMillis when the session must end: {@code exp} plus the configured leeway, the same
 *     rule that decided whether the token was accepted; 0 when it never ends
 */
public record Identity(String user, long expiresAtMillis, long endsAtMillis) {

  /** An identity without expiry. */
  public static Identity unlimited(String user) {
    return new Identity(user, 0, 0);
  }
}
