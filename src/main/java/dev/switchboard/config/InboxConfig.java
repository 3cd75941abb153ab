package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The {@code inbox} section: the durable store of every user's messages; with the room limits of the
 * {@code limits} section, which the store enforces inside the commit that changes or sends to a room.
 */
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
    List<String> postgresUris,
    int postgresPoolSize,
    long postgresPartitionMillis,
    long postgresShardTimeoutMillis,
    int postgresCommitsInFlight,
    long postgresCommitIntervalMillis,
    boolean allowEmbeddedInCluster,
    long stopTimeoutMillis,
    int indexCacheMegabytes,
    boolean verifyInBackground,
    int maxRoomMembers,
    int maxRoomsPerUser,
    int roomEventMembers,
    int roomReceiptMembers) {

  /**
   * Where the inboxes live: embedded in each node (Switchboard's own append-only log), or one
   * PostgreSQL database shared by nodes.
   */
  public enum Engine {
    LOG, POSTGRES
  }

  /** Where a user of the SQLite engine reads how to keep the messages of its file. */
  public static final String MOVING_FROM_SQLITE = "docs/storage.md, \"Moving from SQLite\"";

  private static final List<String> URI_SCHEMES = List.of("postgresql", "postgres");

  /**
   * How many group commits of this node may run at once: one on an embedded engine (its only writer
   * writes one transaction after another), at most {@code inbox.postgresCommitsInFlight} on PostgreSQL,
   * whose row locks already let several writers share the inboxes (the inbox starts one beside others
   * only when they are held or a full batch waits).
   */
  public int appendsInFlight() {
    return engine == Engine.POSTGRES ? postgresCommitsInFlight : 1;
  }

  /**
   * The least time between the starts of two group commits: {@code inbox.postgresCommitIntervalMillis}
   * on PostgreSQL, where a commit costs the database far more CPU than its messages do when they
   * are few, so that commits carry more of them; {@code inbox.commitIntervalMillis} on the log.
   */
  public long commitSpacingMillis() {
    return engine == Engine.POSTGRES ? postgresCommitIntervalMillis : commitIntervalMillis;
  }

  /**
   * How many batches of page reads may be read at once: on PostgreSQL two, and reads that come
   * meanwhile wait for the next batch, one statement for all (sessions starting together); an
   * embedded engine reads each at once, from memory or its own files.
   */
  public int readBatchesInFlight() {
    return engine == Engine.POSTGRES ? 2 : Integer.MAX_VALUE;
  }

  /** An embedded engine: each node its own files. */
  public boolean embedded() {
    return engine != Engine.POSTGRES;
  }

  /**
   * The shards in order: {@code inbox.postgresUris} when it lists any, else the one database of
   * {@code inbox.postgresUri}, so that configurations written before shards keep working unchanged.
   */
  private static List<String> postgresUris(ConfigSection s) {
    List<String> listed = s.strings("postgresUris");
    if (listed.isEmpty()) {
      return List.of(s.uri("postgresUri", URI_SCHEMES));
    }
    for (String uri : listed) {
      int colon = uri.indexOf("://");
      if (colon < 0 || !URI_SCHEMES.contains(uri.substring(0, colon))) {
        throw new IllegalArgumentException("inbox.postgresUris must hold URIs starting with postgresql://");
      }
    }
    if (listed.stream().distinct().count() != listed.size()) {
      throw new IllegalArgumentException("inbox.postgresUris lists a database twice");
    }
    return listed;
  }

  /**
   * A configuration naming {@code sqlite} would otherwise meet only the list of engines, and its
   * owner would not learn that the messages in that file need a step before this version runs.
   */
  private static Engine engine(ConfigSection s) {
    if (s.string("engine").equalsIgnoreCase("sqlite")) {
      throw new IllegalArgumentException("inbox.engine must be log or postgres, got sqlite: this version has no SQLite "
          + "engine; to keep the messages stored in an SQLite inbox.db, see " + MOVING_FROM_SQLITE);
    }
    return Engine.valueOf(s.oneOf("engine", List.of("LOG", "POSTGRES")));
  }

  public static InboxConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "inbox");
    ConfigSection limits = new ConfigSection(root, "limits");
    return new InboxConfig(
        engine(s),
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
        postgresUris(s),
        s.intIn("postgresPoolSize", 1, 1000),
        s.longIn("postgresPartitionSeconds", 60, 24 * 3600) * 1000,
        s.longIn("postgresShardTimeoutMillis", 100, 600_000),
        s.intIn("postgresCommitsInFlight", 1, 64),
        s.longIn("postgresCommitIntervalMillis", 0, 1_000),
        s.bool("allowEmbeddedInCluster"),
        s.longIn("stopTimeoutSeconds", 1, 3600) * 1000,
        s.intIn("indexCacheMegabytes", 1, 65_536),
        s.bool("verifyInBackground"),
        limits.intIn("maxRoomMembers", 1, 1_000_000),
        limits.intIn("maxRoomsPerUser", 1, 1_000_000),
        limits.intIn("roomEventMembers", 1, 1_000_000),
        limits.intIn("roomReceiptMembers", 1, 1_000_000));
  }
}
