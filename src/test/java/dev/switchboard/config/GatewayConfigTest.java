package dev.switchboard.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The {@code gateway} section: the handshake deadline (default, environment variable, checks) and the instance count. */
class GatewayConfigTest {

  private static JsonObject defaults() throws IOException {
    return new JsonObject(Files.readString(Path.of(ConfigLoader.DEFAULTS_PATH)));
  }

  private static String refusal(JsonObject root) {
    return assertThrows(IllegalArgumentException.class, () -> GatewayConfig.fromJson(root)).getMessage();
  }

  @Test
  @DisplayName("gateway.instances defaults to half the cores, at least one; a number is taken as given, a negative one refused")
  void instances() throws IOException {
    assertEquals(0, defaults().getJsonObject("gateway").getInteger("instances"));
    assertEquals(1, GatewayConfig.instances(0, 1));
    assertEquals(1, GatewayConfig.instances(0, 2));
    assertEquals(1, GatewayConfig.instances(0, 3));
    assertEquals(4, GatewayConfig.instances(0, 8));
    assertEquals(2, GatewayConfig.instances(2, 1));
    assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), GatewayConfig.fromJson(defaults()).instances());
    JsonObject three = defaults();
    three.getJsonObject("gateway").put("instances", 3);
    assertEquals(3, GatewayConfig.fromJson(three).instances());
    JsonObject negative = defaults();
    negative.getJsonObject("gateway").put("instances", -1);
    assertEquals("gateway.instances must be 0..256, got -1", refusal(negative));
  }

  @Test
  @DisplayName("gateway.handshakeTimeoutSeconds defaults to 10 seconds")
  void handshakeTimeoutDefault() throws IOException {
    assertEquals(10_000, GatewayConfig.fromJson(defaults()).handshakeTimeoutMillis());
  }

  @Test
  @DisplayName("SWITCHBOARD_GATEWAY_HANDSHAKE_TIMEOUT_SECONDS sets the handshake timeout")
  void handshakeTimeoutFromEnvironment() throws IOException {
    JsonObject root = ConfigLoader.applyEnvironment(defaults(), Map.of("SWITCHBOARD_GATEWAY_HANDSHAKE_TIMEOUT_SECONDS", "3"));
    assertEquals(3_000, GatewayConfig.fromJson(root).handshakeTimeoutMillis());
  }

  @Test
  @DisplayName("a handshake timeout that is missing, not a number, or outside 1..3600 is refused, naming the key")
  void handshakeTimeoutValidation() throws IOException {
    JsonObject zero = defaults();
    zero.getJsonObject("gateway").put("handshakeTimeoutSeconds", 0);
    assertEquals("gateway.handshakeTimeoutSeconds must be 1..3600, got 0", refusal(zero));

    JsonObject tooLong = defaults();
    tooLong.getJsonObject("gateway").put("handshakeTimeoutSeconds", 3601);
    assertEquals("gateway.handshakeTimeoutSeconds must be 1..3600, got 3601", refusal(tooLong));

    JsonObject words = defaults();
    words.getJsonObject("gateway").put("handshakeTimeoutSeconds", "soon");
    assertEquals("gateway.handshakeTimeoutSeconds must be a whole number, got soon", refusal(words));

    JsonObject fraction = defaults();
    fraction.getJsonObject("gateway").put("handshakeTimeoutSeconds", 0.5);
    assertEquals("gateway.handshakeTimeoutSeconds must be a whole number, got 0.5", refusal(fraction));

    JsonObject missing = defaults();
    missing.getJsonObject("gateway").remove("handshakeTimeoutSeconds");
    assertEquals("gateway.handshakeTimeoutSeconds is missing", refusal(missing));
  }
}
