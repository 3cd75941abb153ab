package dev.switchboard.auth;

import dev.switchboard.config.AuthConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Recognises push API keys from their SHA-256, so the config never holds a usable key, and applies
 * what a key may do. The HTTP push API and {@code switchboard.push} on the event bus use the same
 * rules.
 */
public final class ApiKeys {

  private static final String BEARER = "Bearer ";

  private final List<AuthConfig.ApiKey> keys;

  public ApiKeys(List<AuthConfig.ApiKey> keys) {
    this.keys = keys;
  }

  /** The key an {@code Authorization: Bearer <key>} header names, or null. */
  public AuthConfig.ApiKey match(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return null;
    }
    return matchKey(authorization.substring(BEARER.length()).trim());
  }

  /** The configured key {@code presented} is, or null. */
  public AuthConfig.ApiKey matchKey(String presented) {
    if (presented == null || presented.isEmpty()) {
      return null;
    }
    byte[] hash = sha256(presented).getBytes(StandardCharsets.US_ASCII);
    AuthConfig.ApiKey found = null;
    for (AuthConfig.ApiKey key : keys) {
      // Compare every key in constant time, so timing does not tell how close a guess was.
      if (MessageDigest.isEqual(hash, key.sha256().getBytes(StandardCharsets.US_ASCII))) {
        found = key;
      }
    }
    return found;
  }

  /**
   * The sender of a push made with {@code key}: the key's name, unless the key may speak for others
   * and the request names a sender ({@code requestedFrom}, null when it names none).
   *
   * @throws ProtocolException {@code forbidden} when the request names a sender the key may not set
   */
  public static String sender(AuthConfig.ApiKey key, Object requestedFrom) {
    if (requestedFrom == null) {
      return key.name();
    }
    if (!key.mayImpersonate()) {
      throw new ProtocolException(ErrorCode.FORBIDDEN, "API key '" + key.name() + "' may not set from");
    }
    if (!(requestedFrom instanceof String from)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "from must be a user id");
    }
    return from;
  }

  /** The hex SHA-256 of a key: what {@code auth.apiKeys[].sha256} holds. */
  public static String sha256(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
