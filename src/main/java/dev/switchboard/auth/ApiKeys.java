package dev.switchboard.auth;

import dev.switchboard.config.AuthConfig;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** Recognises push API keys from their SHA-256, so the config never holds a usable key. */
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
    byte[] presented = sha256(authorization.substring(BEARER.length()).trim()).getBytes(StandardCharsets.US_ASCII);
    AuthConfig.ApiKey found = null;
    for (AuthConfig.ApiKey key : keys) {
      // Compare every key in constant time, so timing does not tell how close a guess was.
      if (MessageDigest.isEqual(presented, key.sha256().getBytes(StandardCharsets.US_ASCII))) {
        found = key;
      }
    }
    return found;
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
