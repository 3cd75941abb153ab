package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

import java.util.List;

/** The {@code inbox} section: the durable store of every user's messages. */
public record InboxConfig(
    Engine engine,
    String dataDir,
    long retentionMillis,
    int maxMessagesPerUser,
    long idempotencyWindowMillis,
    long purgeIntervalMillis,
    int batchMaxMessages,
    long commitIntervalMillis,
    long cursorFlushMillis,
    String synchronous,
    long logSegmentBytes,
    boolean logRepair,
    String postgresUri,
    int postgresPoolSize,
    boolean allowEmbeddedInCluster,
    long stopTimeoutMillis,
    int indexCacheMegabytes) {

  /**
   * Where the inboxes live: embedded in each node (Switchboard's own append-only log, or an SQLite
   * file), or one PostgreSQL database shared by nodes.
   */
  public enum Engine {
    LOG, SQLITE, POSTGRES
  }

  /** An embedded engine: each node its own files. */
  public boolean embedded() {
    return engine != Engine.POSTGRES;
  }

  public static InboxConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "inbox");
    return new InboxConfig(
        Engine.valueOf(s.oneOf("engine", List.of("LOG", "SQLITE", "POSTGRES"))),
        s.string("dataDir"),
        s.longIn("retentionSeconds", 1, 366L * 24 * 3600) * 1000,
        s.intIn("maxMessagesPerUser", 1, 100_000_000),
        s.longIn("idempotencyWindowSeconds", 0, 7L * 24 * 3600) * 1000,
        s.longIn("purgeIntervalSeconds", 1, 24 * 3600) * 1000,
        s.intIn("batchMaxMessages", 1, 100_000),
        s.longIn("commitIntervalMillis", 0, 1_000),
        s.longIn("cursorFlushMillis", 1, 60_000),
        s.oneOf("synchronous", List.of("OFF", "NORMAL", "FULL")),
        s.longIn("segmentMegabytes", 1, 4096) * 1024 * 1024,
        s.bool("logRepair"),
        s.uri("postgresUri", List.of("postgresql", "postgres")),
        s.intIn("postgresPoolSize", 1, 1000),
        s.bool("allowEmbeddedInCluster"),
        s.longIn("stopTimeoutSeconds", 1, 3600) * 1000,
        s.intIn("indexCacheMegabytes", 1, 65_536));
  }
}
