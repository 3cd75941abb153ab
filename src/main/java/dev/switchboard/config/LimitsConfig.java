package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

/** The {@code limits} section: what every entry point (socket, HTTP, event bus) accepts. */
public record LimitsConfig(int maxBodyBytes, int maxIdLength, int maxRecipients, long requestTimeoutMillis) {

  public static LimitsConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "limits");
    return new LimitsConfig(
        s.intIn("maxBodyBytes", 1, 16 * 1024 * 1024),
        s.intIn("maxIdLength", 1, 1024),
        s.intIn("maxRecipients", 1, 1_000_000),
        s.longIn("requestTimeoutSeconds", 1, 600) * 1000);
  }
}
