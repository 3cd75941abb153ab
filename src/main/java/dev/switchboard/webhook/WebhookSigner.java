package dev.switchboard.webhook;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Signs webhook requests so a receiver can tell them from forgeries and replays: an HMAC-SHA256,
 * keyed with {@code webhook.secret}, over the request's timestamp (Unix seconds), a {@code .}, and
 * the raw body bytes. The timestamp is signed with the body, so a captured request cannot be
 * replayed later under a fresh timestamp; a receiver refuses timestamps too far from its clock.
 */
public final class WebhookSigner {

  /** Unix seconds when the request was signed. */
  public static final String TIMESTAMP_HEADER = "X-Switchboard-Timestamp";
  /** {@code sha256=} and the lowercase hex HMAC of {@code timestamp + "." + body}. */
  public static final String SIGNATURE_HEADER = "X-Switchboard-Signature";

  private final SecretKeySpec key;

  public WebhookSigner(String secret) {
    this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
  }

  /** The {@link #SIGNATURE_HEADER} value for {@code body} sent at {@code timestampSeconds}. */
  public String sign(long timestampSeconds, byte[] body) {
    Mac mac;
    try {
      mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("every Java platform has HmacSHA256", e);
    }
    mac.update((timestampSeconds + ".").getBytes(StandardCharsets.US_ASCII));
    return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
  }

  /**
   * What a receiver does, for tests and as the reference for docs/security.md: the signature
   * matches (compared in constant time) and the timestamp is within {@code toleranceSeconds} of now.
   */
  public boolean verify(String timestampHeader, String signatureHeader, byte[] body, long nowSeconds,
                        long toleranceSeconds) {
    if (timestampHeader == null || signatureHeader == null) {
      return false;
    }
    long timestamp;
    try {
      timestamp = Long.parseLong(timestampHeader);
    } catch (NumberFormatException e) {
      return false;
    }
    if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
      return false;
    }
    return MessageDigest.isEqual(sign(timestamp, body).getBytes(StandardCharsets.US_ASCII),
        signatureHeader.getBytes(StandardCharsets.US_ASCII));
  }
}
