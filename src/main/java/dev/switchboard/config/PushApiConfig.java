package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

import java.util.List;

/** The {@code push} section: the HTTP API back ends push through. */
public record PushApiConfig(String host, int port, List<String> corsOrigins, long maxRequestBytes, String defaultSender) {

  public static PushApiConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "push");
    return new PushApiConfig(
        s.string("host"),
        s.intIn("port", 0, 65535),
        s.strings("corsOrigins"),
        s.longIn("maxRequestBytes", 1024, 256L * 1024 * 1024),
        s.string("defaultSender"));
  }
}
