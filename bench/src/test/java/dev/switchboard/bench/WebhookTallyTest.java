package dev.switchboard.bench;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WebhookTallyTest {

  private static final String SECRET = "bench-secret-0123456789";
  private static final String TS = "1763888400";
  private static final long NOW = 1763888400L;
  private static final byte[] BODY = ("{\"notifications\":[{\"id\":\"n1\",\"user\":\"u1\",\"from\":\"bench\",\"push\":true,"
      + "\"body\":\"run1:0:0:5\",\"ts\":1}]}").getBytes(StandardCharsets.UTF_8);
  /** printf '%s' "$TS.$BODY" | openssl dgst -sha256 -hmac "$SECRET" */
  private static final String SIGNATURE = "sha256=41693afc4b56281f7c4d8c57bd2090b902dc06eba795ff80bc26161675e3cb50";

  @Test
  @DisplayName("a request signed as docs/security.md says is taken, and its notification counted for its user")
  void signedRequest() {
    WebhookTally t = new WebhookTally(SECRET, "run1", 3);
    assertEquals(200, t.onPost(TS, SIGNATURE, BODY, NOW, 1));
    assertEquals(1, t.calls);
    assertEquals(1, t.distinct);
    assertEquals(1, t.of(1));
    assertEquals(0, t.badSignatures + t.foreign + t.duplicates + t.malformed);
  }

  @Test
  @DisplayName("a wrong signature, a stale timestamp or a missing header is refused with 401 and counts nothing")
  void badSignatures() {
    WebhookTally t = new WebhookTally(SECRET, "run1", 3);
    assertEquals(401, t.onPost(TS, SIGNATURE.replace('4', '5'), BODY, NOW, 1));
    assertEquals(401, t.onPost(TS, SIGNATURE, BODY, NOW + 301, 1));
    assertEquals(401, t.onPost(null, SIGNATURE, BODY, NOW, 1));
    assertEquals(3, t.badSignatures);
    assertEquals(0, t.notifications);
  }

  @Test
  @DisplayName("the same notification id posted again is doubled; a user or body outside the run is foreign")
  void duplicatesAndForeign() {
    WebhookTally t = new WebhookTally(SECRET, "run1", 1);
    assertEquals(200, t.onPost(TS, SIGNATURE, BODY, NOW, 1));
    assertEquals(200, t.onPost(TS, SIGNATURE, BODY, NOW, 2));
    assertEquals(2, t.notifications);
    assertEquals(1, t.duplicates);
    // u1 is outside a run of one user (u0)
    assertEquals(1, t.foreign);
    assertEquals(0, t.of(0));
  }
}
