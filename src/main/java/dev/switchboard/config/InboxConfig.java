package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

import java.util.List;

/** The {@code inbox} section: the durable store of every user's messages. */
public record InboxConfig(
    String engine,
    String dataDir,
    String postgresUri,
    int postgresPoolSize,
    boolean allowEmbeddedInCluster,
    long retentionMillis,
    int maxMessagesPerUser,
    long idempotencyWindowMillis,
    long purgeIntervalMillis,
    int batchMaxMessages,
    long cursorFlushMillis,
    String synchronous) {

  /** The embedded store: one node's own file. */
  public static final String SQLITE = "SQLITE";
  /** A PostgreSQL database that several nodes share. */
  public static final String POSTGRES = "POSTGRES";

  public boolean embedded() {
    return SQLITE.equals(engine);
  }

  public static InboxConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "inbox");
    return new InboxConfig(
        s.oneOf("engine", List.of(SQLITE, POSTGRES)),
        s.string("dataDir"),
        s.string("postgresUri"),
        s.intIn("postgresPoolSize", 1, 1000),
        s.bool("allowEmbeddedInCluster"),
        s.longIn("retentionSeconds", 1, 366L * 24 * 3600) * 1000,
        s.intIn("maxMessagesPerUser", 1, 100_000_000),
        s.longIn("idempotencyWindowSeconds", 0, 7L * 24 * 3600) * 1000,
        s.longIn("purgeIntervalSeconds", 1, 24 * 3600) * 1000,
        s.intIn("batchMaxMessages", 1, 100_000),
        s.longIn("cursorFlushMillis", 1, 60_000),
        s.oneOf("synchronous", List.of("OFF", "NORMAL", "FULL")));
  }
}
