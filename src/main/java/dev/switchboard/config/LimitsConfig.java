package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

/** The {@code limits} section: what every entry point (socket, HTTP, event bus) accepts. */
public record LimitsConfig(
    int maxBodyBytes,
    int maxIdLength,
    int maxRecipients,
    long requestTimeoutMillis,
    int messagesPerSecond,
    int messageBurst,
    int rateLimitStrikes,
    int maxSessionsPerUser,
    int maxConnectionsPerIp,
    int maxJsonDepth,
    long maxDeliveryLagMillis,
    int maxQueuedCopies,
    long maxQueueMillis,
    int maxSignalBytes,
    int signalsPerSecond,
    int roomReceiptMembers) {

  public static LimitsConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "limits");
    LimitsConfig limits = new LimitsConfig(
        s.intIn("maxBodyBytes", 1, 16 * 1024 * 1024),
        s.intIn("maxIdLength", 1, 1024),
        s.intIn("maxRecipients", 1, 1_000_000),
        s.longIn("requestTimeoutSeconds", 1, 600) * 1000,
        s.intIn("messagesPerSecond", 1, 1_000_000),
        s.intIn("messageBurst", 1, 1_000_000),
        s.intIn("rateLimitStrikes", 1, 1_000_000),
        s.intIn("maxSessionsPerUser", 1, 100_000),
        s.intIn("maxConnectionsPerIp", 1, 10_000_000),
        s.intIn("maxJsonDepth", 2, 1000),
        s.longIn("maxDeliveryLagMillis", 10, 600_000),
        s.intIn("maxQueuedCopies", 1, 100_000_000),
        s.longIn("maxQueueMillis", 1, 600_000),
        s.intIn("maxSignalBytes", 1, 65_536),
        s.intIn("signalsPerSecond", 1, 1_000_000),
        s.intIn("roomReceiptMembers", 1, 1_000_000));
    // A send that may wait longer than its request may take would time out instead of being refused.
    if (limits.maxQueueMillis() >= limits.requestTimeoutMillis()) {
      throw new IllegalArgumentException(s.key("maxQueueMillis") + " must be less than limits.requestTimeoutSeconds "
          + "in ms (" + limits.requestTimeoutMillis() + "), got " + limits.maxQueueMillis());
    }
    return limits;
  }
}
