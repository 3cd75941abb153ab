package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The {@code metrics} and {@code logging} sections: whether Vert.x and Switchboard meters are kept
 * and served at {@code /metrics}; whether logs are one JSON object per line, and Switchboard's level.
 */
public record ObservabilityConfig(boolean metricsEnabled, boolean jsonLogs, String logLevel) {

  public static ObservabilityConfig fromJson(JsonObject root) {
    ConfigSection logging = new ConfigSection(root, "logging");
    return new ObservabilityConfig(
        new ConfigSection(root, "metrics").bool("enabled"),
        logging.bool("json"),
        logging.oneOf("level", List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR")));
  }
}
