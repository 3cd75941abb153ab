package dev.switchboard.gateway;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The origin rule of {@link Admission}, without a socket. */
class AdmissionTest {

  private static final List<String> ALLOWED = List.of("https://app.example.com");

  @Test
  @DisplayName("a client without Origin is not a browser and passes; a listed origin passes")
  void noOriginOrListed() {
    assertTrue(Admission.originAllowed(null, "chat.example.com", ALLOWED));
    assertTrue(Admission.originAllowed("https://app.example.com", "chat.example.com", ALLOWED));
  }

  @Test
  @DisplayName("a page from the gateway's own host passes, whatever the case of the host")
  void ownOrigin() {
    assertTrue(Admission.originAllowed("https://chat.example.com:8443", "chat.example.com:8443", ALLOWED));
    assertTrue(Admission.originAllowed("http://Chat.Example.com", "chat.example.com", List.of()));
  }

  @Test
  @DisplayName("another site, another port of the same host, a missing Host or an origin without a scheme is refused")
  void otherOrigins() {
    assertFalse(Admission.originAllowed("https://evil.example.net", "chat.example.com", ALLOWED));
    assertFalse(Admission.originAllowed("https://chat.example.com:9999", "chat.example.com:8443", ALLOWED));
    assertFalse(Admission.originAllowed("https://chat.example.com", null, ALLOWED));
    assertFalse(Admission.originAllowed("chat.example.com", "chat.example.com", ALLOWED));
    assertFalse(Admission.originAllowed("null", "chat.example.com", ALLOWED));
  }
}
