package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

/**
 * The {@code metrics} and {@code logging} sections: whether Vert.x and Switchboard meters are kept
 * and served at {@code /metrics}, and whether logs are written as one JSON object per line.
 */
public record ObservabilityConfig(boolean metricsEnabled, boolean jsonLogs) {

  public static ObservabilityConfig fromJson(JsonObject root) {
    return new ObservabilityConfig(
        new ConfigSection(root, "metrics").bool("enabled"),
        new ConfigSection(root, "logging").bool("json"));
  }
}
