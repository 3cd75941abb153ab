package dev.switchboard.auth;

/** Who a connection acts as, and until when ({@code expiresAtMillis} 0: no expiry). */
public record Identity(String user, long expiresAtMillis) {
}
