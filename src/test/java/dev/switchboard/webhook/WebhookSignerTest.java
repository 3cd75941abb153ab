package dev.switchboard.webhook;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebhookSignerTest {

  private final WebhookSigner signer = new WebhookSigner("test-secret-0123456789");
  private final byte[] body = "{\"notifications\":[]}".getBytes(StandardCharsets.UTF_8);

  @Test
  @DisplayName("the signature is the HMAC-SHA256 of timestamp.body, as docs/security.md shows it")
  void knownValue() {
    // printf '%s' '1700000000.{"notifications":[]}' | openssl dgst -sha256 -hmac 'test-secret-0123456789'
    assertEquals("sha256=05e0ab7ad1d7eac33902e9ea736ee19c4018b2c9f220194ff7c31e9f07a79702",
        signer.sign(1_700_000_000L, body));
  }

  @Test
  @DisplayName("a receiver accepts a fresh signed request and refuses a changed body, another secret or an old timestamp")
  void verify() {
    String signature = signer.sign(1_700_000_000L, body);
    assertTrue(signer.verify("1700000000", signature, body, 1_700_000_100L, 300));
    assertFalse(signer.verify("1700000000", signature, "{}".getBytes(StandardCharsets.UTF_8), 1_700_000_100L, 300));
    assertFalse(new WebhookSigner("another-secret-0123456").verify("1700000000", signature, body, 1_700_000_100L, 300));
    assertFalse(signer.verify("1700000000", signature, body, 1_700_001_000L, 300));
    assertFalse(signer.verify("1700000001", signature, body, 1_700_000_100L, 300));
    assertFalse(signer.verify(null, signature, body, 1_700_000_100L, 300));
  }
}
