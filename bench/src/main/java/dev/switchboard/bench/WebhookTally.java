package dev.switchboard.bench;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

/**
 * Accounting of {@code backlog --webhook}: what the server's offline-notification webhook POSTed to
 * the generator. Each request's signature is checked as docs/security.md tells receivers to (HMAC-SHA256
 * of timestamp, '.', raw body; a timestamp within 300 s); each notification is counted once by its
 * {@code id}, per recipient user (u0, u1, ...), and must carry a body of this run. Touched only on the
 * generator's event loop.
 */
final class WebhookTally {

  private static final long FRESH_SECONDS = 300;

  private final Mac mac;
  private final String runPrefix;
  private final long[] perUser;
  private final Set<String> ids = new HashSet<>();

  long calls;
  long badSignatures;
  long malformed;
  long notifications;
  long distinct;
  long duplicates;
  /** Notifications for a user outside this run, or whose body is not a token of this run. */
  long foreign;
  long firstNanos;
  long lastNanos;

  WebhookTally(String secret, String run, int users) {
    try {
      mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every Java platform has HmacSHA256", e);
    }
    this.runPrefix = run + ":";
    this.perUser = new long[users];
  }

  /**
   * One POST: its {@code X-Switchboard-Timestamp} and {@code X-Switchboard-Signature} headers (null
   * when absent), its raw body, and the wall clock in seconds. Returns the status to answer: 200
   * takes the batch, 401 refuses a request that fails the signature or time check (the server
   * retries it), 400 one that is not the documented JSON.
   */
  int onPost(String timestamp, String signature, byte[] body, long nowSeconds, long nowNanos) {
    calls++;
    if (!signed(timestamp, signature, body, nowSeconds)) {
      badSignatures++;
      return 401;
    }
    JsonArray list;
    try {
      list = new JsonObject(new String(body, StandardCharsets.UTF_8)).getJsonArray("notifications");
    } catch (DecodeException | ClassCastException e) {
      list = null;
    }
    if (list == null) {
      malformed++;
      return 400;
    }
    if (firstNanos == 0) {
      firstNanos = nowNanos;
    }
    lastNanos = nowNanos;
    for (int i = 0; i < list.size(); i++) {
      Object o = list.getValue(i);
      if (!(o instanceof JsonObject n) || n.getString("id") == null) {
        malformed++;
        continue;
      }
      notifications++;
      if (!ids.add(n.getString("id"))) {
        duplicates++;
        continue;
      }
      distinct++;
      int user = userIndex(n.getString("user"));
      String text = n.getString("body");
      if (user < 0 || user >= perUser.length || text == null || !text.startsWith(runPrefix)) {
        foreign++;
      } else {
        perUser[user]++;
      }
    }
    return 200;
  }

  private boolean signed(String timestamp, String signature, byte[] body, long nowSeconds) {
    if (timestamp == null || signature == null) {
      return false;
    }
    long ts;
    try {
      ts = Long.parseLong(timestamp);
    } catch (NumberFormatException e) {
      return false;
    }
    if (Math.abs(nowSeconds - ts) > FRESH_SECONDS) {
      return false;
    }
    mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
    String expected = "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), signature.getBytes(StandardCharsets.US_ASCII));
  }

  private static int userIndex(String user) {
    try {
      return user != null && user.startsWith("u") ? Integer.parseInt(user.substring(1)) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Distinct notifications for user {@code u}. */
  long of(int u) {
    return perUser[u];
  }
}
