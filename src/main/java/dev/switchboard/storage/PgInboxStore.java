package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomChangeResult;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The shared engine: one PostgreSQL database that several nodes write at once, through the reactive
 * Vert.x client (pipelined, so the statements of a step go out together and cost one round trip).
 *
 * <p>Unlike {@link LogInboxStore} this store is not the only writer, so it keeps nothing in memory:
 * each append batch is one transaction that locks the heads of its inboxes ({@code SELECT ... FOR
 * UPDATE}, in recipient order, so that nodes never deadlock), plans with the same
 * {@link AppendPlanner}, and writes. The locks are held to the commit, so per inbox the seqs are given
 * one transaction after another and become visible in order, without holes.
 *
 * <p>One instance is one database: the only one, or one shard of {@link ShardedInboxStore}, which
 * then writes only the recipients whose inboxes it holds. Messages are partitioned by time
 * ({@link Partitions}), so retention drops whole partitions instead of deleting rows.
 *
 * <p>A room send or change locks the room's row before any head, so that it and every other
 * commit about the room take turns: the members it reaches are those of the room at that turn.
 * A room message's body is stored once, in {@code room_messages}; its copies refer to it.
 */
public final class PgInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(PgInboxStore.class);
  /** Statements a connection sends before waiting for answers. */
  private static final int PIPELINING_LIMIT = 256;
  /** Advisory lock keys (fixed, arbitrary numbers): one node at a time migrates the schema, or purges. */
  private static final long SCHEMA_LOCK = 0x5357_4244_0001L;
  private static final long PURGE_LOCK = 0x5357_4244_0002L;
  private static final long PARTITION_LOCK = 0x5357_4244_0003L;
  /** The tables partitioned by time; partitions are named by the first millisecond they hold: {@code messages_p1765000800000}. */
  private static final PartitionedTable MESSAGES = new PartitionedTable("messages", "messages_p", true);
  private static final PartitionedTable ROOM_MESSAGES = new PartitionedTable("room_messages", "room_messages_p", false);
  private static final List<PartitionedTable> PARTITIONED = List.of(MESSAGES, ROOM_MESSAGES);

  /** A table partitioned by {@code created_at}; {@code counted} if its rows count in their inbox's {@code stored}. */
  private record PartitionedTable(String table, String prefix, boolean counted) {
    String list() {
      return "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
          + " WHERE i.inhparent = '" + table + "'::regclass AND c.relname LIKE '" + prefix.replace("_", "\\_") + "%'";
    }
  }

  /** Schema changes in order: entry i brings the database to version i + 1. Append to it, never edit. */
  static final List<List<String>> MIGRATIONS = List.of(List.of(
      "CREATE TABLE IF NOT EXISTS messages (recipient TEXT NOT NULL, seq BIGINT NOT NULL, msg_id TEXT NOT NULL,"
          + " sender TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (recipient, seq))",
      "CREATE INDEX IF NOT EXISTS messages_by_age ON messages (created_at)",
      "CREATE TABLE IF NOT EXISTS inboxes (recipient TEXT PRIMARY KEY, last_seq BIGINT NOT NULL, stored BIGINT NOT NULL)",
      "CREATE TABLE IF NOT EXISTS cursors (recipient TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,"
          + " updated_at BIGINT NOT NULL, PRIMARY KEY (recipient, device))",
      "CREATE TABLE IF NOT EXISTS send_keys (sender TEXT NOT NULL, send_key TEXT NOT NULL, created_at BIGINT NOT NULL,"
          + " fingerprint TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (sender, send_key))",
      "CREATE INDEX IF NOT EXISTS send_keys_by_age ON send_keys (created_at)"), List.of(
      "CREATE OR REPLACE FUNCTION switchboard_keys_written(expected BIGINT, written BIGINT) RETURNS BIGINT"
          + " LANGUAGE plpgsql AS $$ BEGIN IF written < expected THEN RAISE EXCEPTION"
          + " 'an idempotency key of the batch was stored by a concurrent writer' USING ERRCODE = 'SB001';"
          + " END IF; RETURN written; END $$"), List.of(
      // Version 3: messages partitioned by time, so that retention drops whole partitions. The rows
      // of version 2 go to the default partition, which purge empties row by row as they expire.
      "ALTER TABLE messages RENAME TO messages_v2",
      "ALTER INDEX messages_pkey RENAME TO messages_v2_pkey",
      "CREATE TABLE messages (recipient TEXT NOT NULL, seq BIGINT NOT NULL, msg_id TEXT NOT NULL,"
          + " sender TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL,"
          + " PRIMARY KEY (recipient, seq, created_at)) PARTITION BY RANGE (created_at)",
      "CREATE TABLE messages_default PARTITION OF messages DEFAULT",
      "CREATE INDEX messages_default_by_age ON messages_default (created_at)",
      "INSERT INTO messages (recipient, seq, msg_id, sender, body, created_at)"
          + " SELECT recipient, seq, msg_id, sender, body, created_at FROM messages_v2",
      "DROP TABLE messages_v2",
      "CREATE TABLE shard_identity (singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),"
          + " shard_index INTEGER NOT NULL, shard_count INTEGER NOT NULL, recorded_at BIGINT NOT NULL)"),
      roomsMigration());

  /**
   * Version 4: rooms. An inbox row of a room message is a reference (its room and roomSeq); the body
   * is stored once (per shard) in {@code room_messages}, partitioned by time like {@code messages} and
   * with the time of its copies, so that it is dropped with the partition that holds every copy
   * referring to it. {@code joined_seq} is the roomSeq of the event that added a member: the order
   * members joined.
   */
  private static List<String> roomsMigration() {
    List<String> statements = new ArrayList<>(List.of(
        "ALTER TABLE messages ADD COLUMN room TEXT",
        "ALTER TABLE messages ADD COLUMN room_seq BIGINT",
        "ALTER TABLE messages ADD COLUMN event TEXT",
        "CREATE TABLE rooms (room TEXT PRIMARY KEY, owner TEXT NOT NULL, last_room_seq BIGINT NOT NULL,"
            + " created_at BIGINT NOT NULL)",
        "CREATE TABLE room_members (room TEXT NOT NULL, member TEXT NOT NULL, joined_seq BIGINT NOT NULL,"
            + " added_at BIGINT NOT NULL, PRIMARY KEY (room, member))",
        "CREATE INDEX room_members_by_member ON room_members (member)"));
    statements.add("CREATE TABLE room_messages (room TEXT NOT NULL, room_seq BIGINT NOT NULL, msg_id TEXT NOT NULL,"
        + " sender TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL,"
        + " PRIMARY KEY (room, room_seq, created_at)) PARTITION BY RANGE (created_at)");
    statements.add("CREATE TABLE room_messages_default PARTITION OF room_messages DEFAULT");
    statements.add("CREATE INDEX room_messages_default_by_age ON room_messages_default (created_at)");
    return List.copyOf(statements);
  }

  /** The inboxes of the given users that do not exist yet, empty. */
  private static final String ENSURE_INBOXES =
      "INSERT INTO inboxes (recipient, last_seq, stored) SELECT unnest($1::text[]), 0, 0 ON CONFLICT (recipient) DO NOTHING";
  /**
   * The inboxes a batch writes first, with their heads, in one plain insert. An inbox a concurrent
   * writer created meanwhile fails the statement on the primary key, and the batch runs again.
   */
  private static final String INSERT_INBOXES =
      "INSERT INTO inboxes (recipient, last_seq, stored) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])";
  static final String LOCK_HEADS =
      "SELECT recipient, last_seq, stored FROM inboxes WHERE recipient = ANY($1) ORDER BY recipient FOR UPDATE";
  /**
   * The batch's keys as stored, each with whether it is still within the window ($1): a key past it
   * is forgotten, but its row is renewed rather than inserted.
   */
  static final String LOAD_SEND_KEYS =
      "SELECT sender, send_key, fingerprint, result, created_at >= $1 AS live FROM send_keys"
          + " WHERE (sender, send_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))";
  /** Every new message of the batch in one statement. */
  private static final String INSERT_MESSAGES =
      "INSERT INTO messages (recipient, seq, msg_id, sender, body, created_at, room, room_seq, event)"
          + " SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],"
          + " $7::text[], $8::bigint[], $9::text[])";
  /** The body of every room message of the batch, once. */
  private static final String INSERT_ROOM_BODIES =
      "INSERT INTO room_messages (room, room_seq, msg_id, sender, body, created_at)"
          + " SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])";
  static final String UPDATE_ROOM_SEQS =
      "UPDATE rooms SET last_room_seq = r.seq FROM unnest($1::text[], $2::bigint[]) AS r (room, seq)"
          + " WHERE rooms.room = r.room";
  /** Locks the rows of the rooms a commit sends to or changes, in room order, until the commit. */
  static final String LOCK_ROOMS = "SELECT room FROM rooms WHERE room = ANY($1) ORDER BY room FOR UPDATE";
  /** Rooms and their members in the order they joined, in one statement so in one snapshot. */
  static final String READ_ROOMS =
      "SELECT r.room, r.owner, r.last_room_seq, m.member FROM rooms r LEFT JOIN room_members m ON m.room = r.room"
          + " WHERE r.room = ANY($1) ORDER BY r.room, m.joined_seq";
  /** Every head the batch moves in one statement. */
  static final String UPDATE_HEADS =
      "UPDATE inboxes SET last_seq = h.last_seq, stored = h.stored"
          + " FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS h (recipient, last_seq, stored)"
          + " WHERE inboxes.recipient = h.recipient";
  /**
   * Every idempotency key the batch found absent, in one plain insert: an upsert costs PostgreSQL a
   * speculative insertion and its confirmation per row. A key a concurrent writer inserted meanwhile
   * fails the statement on the primary key, so that the transaction, whose COMMIT is already on its
   * way, rolls back instead of committing messages without their key.
   */
  private static final String INSERT_KEYS =
      "INSERT INTO send_keys (sender, send_key, created_at, fingerprint, result)"
          + " SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])";
  /**
   * Every key the batch found past the window, taken over in one statement. A key renewed meanwhile
   * by a concurrent writer is no longer past it ($6), and the statement then fails (through
   * {@code switchboard_keys_written}) as the insert does.
   */
  static final String RENEW_KEYS =
      "WITH written AS (UPDATE send_keys SET created_at = $3, fingerprint = t.f, result = t.r"
          + " FROM unnest($1::text[], $2::text[], $4::text[], $5::text[]) AS t (s, k, f, r)"
          + " WHERE send_keys.sender = t.s AND send_keys.send_key = t.k AND send_keys.created_at < $6 RETURNING 1)"
          + " SELECT switchboard_keys_written($7, count(*)) FROM written";
  /**
   * Opens a group commit's transaction. Its statements look rows up by key only, so each keeps the
   * plan PostgreSQL first makes for it instead of planning anew every commit; that plan may only use
   * the indexes, however small the tables were when it was made, since a plan made on a near-empty
   * table would otherwise scan the whole table in every later commit ({@code PgPlansTest}).
   */
  static final String BEGIN_COMMIT = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan;"
      + " SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off";
  /** SQLSTATE raised by {@code switchboard_keys_written} when a key of the batch is a concurrent writer's. */
  private static final String KEY_TAKEN_STATE = "SB001";
  /**
   * How long commits read their keys first once one met a stored key: retries come in bursts (the
   * clients of a lost node resending), and each commit that met one would be run twice.
   */
  static final long READ_KEYS_AFTER_STORED_MILLIS = 10_000;
  private static final String UNIQUE_VIOLATION_STATE = "23505";
  private static final String SEND_KEYS_PRIMARY_KEY = "send_keys_pkey";
  private static final String INBOXES_PRIMARY_KEY = "inboxes_pkey";
  /** The cursors of many devices in one statement. */
  private static final String READ_CURSORS = "SELECT recipient, device, seq FROM cursors"
      + " WHERE (recipient, device) IN (SELECT * FROM unnest($1::text[], $2::text[]))";

  /** Every cursor move in one statement; a cursor never moves back. */
  private static final String UPSERT_CURSORS =
      "INSERT INTO cursors (recipient, device, seq, updated_at)"
          + " SELECT r, d, s, $4 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS c (r, d, s)"
          + " ON CONFLICT (recipient, device) DO UPDATE SET seq = GREATEST(cursors.seq, excluded.seq),"
          + " updated_at = excluded.updated_at";
  /**
   * The head and the page in one statement, so in one snapshot: every seq up to the head was
   * committed in it, and a seq below the head that the page lacks was removed by retention.
   */
  private static final String READ_PAGE =
      "SELECT h.last_seq AS head, p.msg_id, p.seq, p.sender, p.body, p.created_at, p.room, p.room_seq, p.event"
          + " FROM (SELECT coalesce(max(last_seq), 0) AS last_seq FROM inboxes WHERE recipient = $1) AS h"
          + " LEFT JOIN LATERAL (SELECT m.msg_id, m.seq, m.sender, " + InboxRows.BODY + ", m.created_at, m.room,"
          + " m.room_seq, m.event FROM messages m"
          + " WHERE m.recipient = $1 AND m.seq > $2 AND m.created_at >= $3 ORDER BY m.seq LIMIT $4) AS p ON true"
          + " ORDER BY p.seq";
  /**
   * Many reads in one statement, each as {@link #READ_PAGE} reads one (head and page in one snapshot),
   * its {@code after} given or, when null, its device's stored cursor read in that snapshot too. The
   * columns {@code i} (the read's place, from 1) and {@code after} tell the rows apart.
   */
  private static final String READ_PAGES =
      "SELECT r.i, coalesce(r.after, c.seq, 0) AS after, h.last_seq AS head, p.msg_id, p.seq, p.sender, p.body,"
          + " p.created_at, p.room, p.room_seq, p.event"
          + " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) WITH ORDINALITY AS r (recipient, device, after, lim, i)"
          + " LEFT JOIN cursors c ON r.after IS NULL AND c.recipient = r.recipient AND c.device = r.device"
          + " CROSS JOIN LATERAL (SELECT coalesce(max(last_seq), 0) AS last_seq FROM inboxes WHERE recipient = r.recipient) AS h"
          + " LEFT JOIN LATERAL (SELECT m.msg_id, m.seq, m.sender, " + InboxRows.BODY + ", m.created_at, m.room,"
          + " m.room_seq, m.event FROM messages m WHERE m.recipient = r.recipient AND m.seq > coalesce(r.after, c.seq, 0)"
          + " AND m.created_at >= $5 ORDER BY m.seq LIMIT r.lim) AS p ON true"
          + " ORDER BY r.i, p.seq";
  /** Rows land in the default partition only when no range partition covers them: few, so deleted one by one. */
  private static final String DELETE_EXPIRED_DEFAULT =
      "WITH gone AS (DELETE FROM messages_default WHERE created_at < $1 RETURNING recipient)"
          + " SELECT recipient, count(*) FROM gone GROUP BY recipient";
  private static final String DELETE_EXPIRED_ROOM_DEFAULT = "DELETE FROM room_messages_default WHERE created_at < $1";
  private static final String DECREMENT_STORED = "UPDATE inboxes SET stored = GREATEST(stored - $2, 0) WHERE recipient = $1";

  private final Vertx vertx;
  private final InboxConfig config;
  private final String uri;
  private final int shard;
  private final ShardMap shards;
  private final AppendPlanner planner;
  private final RoomChangePlanner roomPlanner;
  private final Partitions partitions;
  /**
   * Until when ({@code now} of the commits) commits read their keys before writing them: since a
   * commit met a key already stored. Otherwise a commit writes its keys unread, as nearly all are
   * new, and one that was stored fails the insert and the batch runs again, reading them.
   */
  private long readKeysUntil = Long.MIN_VALUE;
  /** Commits run again because a key they wrote unread was stored: for tests. */
  private long keysFoundStored;
  private Pool pool;
  /** host:port/database, for messages (never the URI: it may hold a password). */
  private String where;

  /** The store of a single database, the first of {@code inbox.postgresUris}. */
  public PgInboxStore(Vertx vertx, InboxConfig config) {
    this(vertx, config, config.postgresUris().get(0), 0, new ShardMap(1));
  }

  /** Shard {@code shard} of {@code shards}: it writes only the recipients whose inboxes it holds. */
  PgInboxStore(Vertx vertx, InboxConfig config, String uri, int shard, ShardMap shards) {
    this.vertx = vertx;
    this.config = config;
    this.uri = uri;
    this.shard = shard;
    this.shards = shards;
    this.planner = new AppendPlanner(config.maxMessagesPerUser(), this::owns, config.roomReceiptMembers());
    this.roomPlanner = new RoomChangePlanner(new RoomRules(config.maxRoomMembers(), config.maxRoomsPerUser(), config.roomEventMembers()), this::owns);
    this.partitions = new Partitions(config.postgresPartitionMillis(), config.retentionMillis(),
        config.purgeIntervalMillis());
  }

  private boolean owns(String user) {
    return shards.shardOf(user) == shard;
  }

  @Override
  public Future<Void> open() {
    PgConnectOptions connect;
    try {
      connect = connectOptions(uri);
    } catch (IllegalArgumentException e) {
      // Not the parser's message: it may quote the URI, password included.
      return Future.failedFuture(new IllegalArgumentException("the PostgreSQL URI of shard " + shard
          + " (inbox.postgresUris, or inbox.postgresUri for one) is not valid"));
    }
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(config.postgresPoolSize()).setName("inbox-postgres"))
        .connectingTo(connect)
        .using(vertx)
        .build();
    where = connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
    return pool.withTransaction(this::migrate)
        .compose(version -> ensurePartitions(System.currentTimeMillis()).map(version))
        .onSuccess(version -> LOG.info("inbox store open on PostgreSQL {} (shard {} of {}, schema version {}, pool of {})",
            where, shard, shards.count(), version, config.postgresPoolSize()))
        .mapEmpty();
  }

  /**
   * The options of the store's connections to the database at {@code uri}. Each statement is planned
   * for the tables as they are when it runs: a prepared statement's generic plan, made once while
   * a table is small (a new database, a new partition) and kept until the table is next analyzed,
   * would scan the whole table in every commit meanwhile instead of looking up its keys.
   */
  static PgConnectOptions connectOptions(String uri) {
    PgConnectOptions connect = PgConnectOptions.fromUri(uri);
    connect.setPipeliningLimit(PIPELINING_LIMIT).setCachePreparedStatements(true)
        .addProperty("plan_cache_mode", "force_custom_plan");
    return connect;
  }

  /**
   * Checks this database's place among the shards against the one it recorded, and with
   * {@code claim} records it if none was: a database opened at another place or in another count
   * would send users to a shard that does not hold their inbox. The sharded store checks every
   * shard before it claims any, so that a refused start leaves no database marked.
   */
  Future<Void> checkShard(boolean claim) {
    return readShard().compose(found -> {
      if (found == null && claim) {
        return pool.preparedQuery("INSERT INTO shard_identity (shard_index, shard_count, recorded_at) VALUES ($1, $2, $3)"
                + " ON CONFLICT (singleton) DO NOTHING")
            .execute(Tuple.of(shard, shards.count(), System.currentTimeMillis()))
            .compose(x -> readShard())
            .compose(this::compareShard);
      }
      return found == null ? Future.succeededFuture() : compareShard(found);
    });
  }

  private Future<int[]> readShard() {
    return pool.query("SELECT shard_index, shard_count FROM shard_identity").execute().map(rows -> {
      if (rows.size() == 0) {
        return null;
      }
      Row row = rows.iterator().next();
      return new int[] {row.getInteger("shard_index"), row.getInteger("shard_count")};
    });
  }

  private Future<Void> compareShard(int[] found) {
    if (found[0] == shard && found[1] == shards.count()) {
      return Future.succeededFuture();
    }
    return Future.failedFuture(new IllegalStateException("the inbox database " + where + " is shard " + found[0]
        + " of " + found[1] + ", but inbox.postgresUris lists it as shard " + shard + " of " + shards.count()
        + ": users would be looked for on the wrong shard. Restore the list's order and length, or move the"
        + " inboxes first (docs/storage.md, \"Changing the shard count\")"));
  }

  /**
   * Creates the partitions that the coming purge intervals will write into, each in its own short
   * transaction; nodes doing it at once take turns on a lock and skip what another created.
   */
  private Future<Void> ensurePartitions(long now) {
    Future<Void> chain = Future.succeededFuture();
    for (PartitionedTable table : PARTITIONED) {
      chain = chain.compose(v -> ensurePartitions(table, now));
    }
    return chain;
  }

  private Future<Void> ensurePartitions(PartitionedTable table, long now) {
    return pool.query(table.list()).execute().compose(rows -> {
      SortedSet<Long> existing = existingPartitions(table, rows);
      Future<Void> chain = Future.succeededFuture();
      for (long start : partitions.wanted(now)) {
        if (!existing.contains(start)) {
          chain = chain.compose(x -> pool.withTransaction(conn -> createPartition(conn, table, start)));
        }
      }
      return chain;
    });
  }

  private static SortedSet<Long> existingPartitions(PartitionedTable table, RowSet<Row> rows) {
    SortedSet<Long> starts = new TreeSet<>();
    for (Row row : rows) {
      Long start = Partitions.startOf(row.getString(0), table.prefix());
      if (start != null) {
        starts.add(start);
      }
    }
    return starts;
  }

  /**
   * A partition is built beside the table and then attached, taking along the rows the default
   * partition holds for its range (PostgreSQL refuses to attach over rows the default holds).
   */
  private Future<Void> createPartition(SqlConnection conn, PartitionedTable table, long start) {
    String name = Partitions.name(table.prefix(), start);
    long end = start + partitions.widthMillis();
    return conn.query("SELECT pg_advisory_xact_lock(" + PARTITION_LOCK + ")").execute()
        .compose(x -> conn.query("SELECT to_regclass('" + name + "') IS NULL").execute())
        .compose(rows -> {
          if (!rows.iterator().next().getBoolean(0)) {
            return Future.succeededFuture();
          }
          String parent = table.table();
          return conn.query("CREATE TABLE " + name + " (LIKE " + parent + " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
              .execute()
              .compose(x -> conn.query("WITH moved AS (DELETE FROM " + parent + "_default WHERE created_at >= " + start
                  + " AND created_at < " + end + " RETURNING *) INSERT INTO " + name + " SELECT * FROM moved").execute())
              .compose(x -> conn.query("ALTER TABLE " + parent + " ATTACH PARTITION " + name + " FOR VALUES FROM ("
                  + start + ") TO (" + end + ")").execute())
              .<Void>mapEmpty()
              .onSuccess(x -> LOG.debug("{} partition {} created", parent, name));
        });
  }

  /** Brings the schema to the newest version, under a lock so that nodes starting together take turns. */
  private Future<Integer> migrate(SqlConnection conn) {
    // IF NOT EXISTS on an existing table is not news: keep the server's notice of it out of the log.
    return conn.query("SET LOCAL client_min_messages = warning").execute()
        .compose(x -> conn.query("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")").execute())
        .compose(x -> conn.query("CREATE TABLE IF NOT EXISTS schema_version"
            + " (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)").execute())
        .compose(x -> conn.query("SELECT coalesce(max(version), 0) FROM schema_version").execute())
        .compose(rows -> {
          int found = rows.iterator().next().getInteger(0);
          if (found > MIGRATIONS.size()) {
            return Future.failedFuture(new IllegalStateException("the inbox database has schema version " + found
                + ", newer than this build knows (" + MIGRATIONS.size() + ")"));
          }
          Future<Void> chain = Future.succeededFuture();
          for (int version = found + 1; version <= MIGRATIONS.size(); version++) {
            for (String statement : MIGRATIONS.get(version - 1)) {
              chain = chain.compose(x -> conn.query(statement).execute().mapEmpty());
            }
            Tuple applied = Tuple.of(version, System.currentTimeMillis());
            chain = chain.compose(x -> conn.preparedQuery("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)")
                .execute(applied).mapEmpty());
          }
          return chain.map(x -> MIGRATIONS.size());
        });
  }

  /**
   * One transaction per batch. Its idempotency keys are written without being read first, unless a
   * commit met a stored key within the last {@link #READ_KEYS_AFTER_STORED_MILLIS}: a send with a
   * stored key (a retry, a reused id, a key past the window not yet purged) then fails the insert on
   * the primary key, and the batch is rolled back and run once more, reading its keys, so that it
   * answers the replay or {@code id_reused}. The same holds when another node committed one of the
   * batch's keys or created one of its inboxes meanwhile: the run again finds the key and answers
   * its replay, or locks the inbox and writes after the other node's copies.
   */
  @Override
  public Future<List<AppendResult>> append(List<AppendRequest> batch, List<CursorUpdate> cursors, long now) {
    boolean readKeys = now < readKeysUntil;
    return pool.withConnection(conn -> appendIn(conn, batch, cursors, now, readKeys))
        .recover(e -> {
          if (!isTakenMeanwhile(e)) {
            return Future.failedFuture(e);
          }
          if (!readKeys && isKeyStored(e)) {
            keysFoundStored++;
            readKeysUntil = Math.max(readKeysUntil, now + READ_KEYS_AFTER_STORED_MILLIS);
          }
          LOG.debug("append of {} requests met a stored key or a concurrent writer of one of its new inboxes; running it "
              + "again", batch.size());
          return pool.withConnection(conn -> appendIn(conn, batch, cursors, now, true));
        });
  }

  long keysFoundStored() {
    return keysFoundStored;
  }

  private static boolean isTakenMeanwhile(Throwable e) {
    return e instanceof PgException pg && (KEY_TAKEN_STATE.equals(pg.getSqlState()) || isKeyStored(e)
        || UNIQUE_VIOLATION_STATE.equals(pg.getSqlState()) && INBOXES_PRIMARY_KEY.equals(pg.getConstraint()));
  }

  private static boolean isKeyStored(Throwable e) {
    return e instanceof PgException pg && UNIQUE_VIOLATION_STATE.equals(pg.getSqlState())
        && SEND_KEYS_PRIMARY_KEY.equals(pg.getConstraint());
  }

  /**
   * The transaction in two round trips, each a pipeline of set-based statements: BEGIN, lock the
   * heads and, with {@code readKeys}, read the keys; then, once planned, write everything and
   * COMMIT. A failed statement aborts the transaction, so the pipelined COMMIT then rolls back, and
   * the failure is what the caller sees. BEGIN and COMMIT are sent by hand because the client's transaction API waits for
   * each of them on its own.
   */
  private Future<List<AppendResult>> appendIn(SqlConnection conn, List<AppendRequest> batch, List<CursorUpdate> cursors,
                                              long now, boolean readKeys) {
    long since = now - config.idempotencyWindowMillis();
    Future<RowSet<Row>> begun = conn.query(BEGIN_COMMIT).execute();
    SortedSet<String> recipients = InboxRows.recipients(batch);
    SortedSet<String> roomIds = InboxRows.rooms(batch);
    // Rooms are locked before heads, as room changes lock them, so that the two never deadlock; their
    // members' heads then take a round trip of their own.
    Future<Map<String, RoomRules.View>> rooms = lockRooms(conn, roomIds);
    Future<Map<String, InboxHead>> heads = roomIds.isEmpty()
        ? lockHeads(conn, ownOnly(recipients))
        : rooms.compose(found -> {
          found.values().forEach(room -> recipients.addAll(room.members()));
          return lockHeads(conn, ownOnly(recipients));
        });
    Future<StoredKeys> keys = readKeys ? loadSendKeys(conn, batch, since)
        : Future.succeededFuture(new StoredKeys(Map.of(), Set.of()));
    boolean[] ended = new boolean[1];
    return Future.all(begun, rooms, heads, keys)
        .map(x -> planner.plan(batch, heads.result(), keys.result().live(),
            room -> rooms.result().getOrDefault(room, RoomRules.View.NONE)))
        .compose(plan -> {
          List<Future<?>> steps = write(conn, plan, heads.result(), keys.result().expired(), cursors, now, since);
          steps.add(conn.query("COMMIT").execute());
          // Whatever the statements did, the COMMIT ends the transaction: committed, or rolled back.
          ended[0] = true;
          return Future.all(steps).map(x -> plan.results());
        })
        .recover(e -> ended[0]
            ? Future.failedFuture(e)
            : conn.query("ROLLBACK").execute().transform(ignored -> Future.<List<AppendResult>>failedFuture(e)));
  }
  private SortedSet<String> ownOnly(SortedSet<String> users) {
    users.removeIf(user -> !owns(user));
    return users;
  }

  /** Locks the rooms' rows until the commit, then reads them with their members; a room that does not exist is absent. */
  private static Future<Map<String, RoomRules.View>> lockRooms(SqlConnection conn, java.util.Collection<String> rooms) {
    if (rooms.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    Tuple ids = Tuple.of(rooms.toArray(new String[0]));
    Future<RowSet<Row>> locked = conn.preparedQuery(LOCK_ROOMS).execute(ids);
    Future<RowSet<Row>> read = conn.preparedQuery(READ_ROOMS).execute(ids);
    return Future.all(locked, read).map(x -> InboxRows.roomViews(read.result()));
  }

  /**
   * Locks every existing head of the batch until the commit; an inbox without a row is absent, and
   * created by the write. Creating every inbox here instead would cost each commit a statement for
   * the few inboxes that are new.
   */
  private static Future<Map<String, InboxHead>> lockHeads(SqlConnection conn, SortedSet<String> recipients) {
    if (recipients.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return conn.preparedQuery(LOCK_HEADS).execute(Tuple.of(recipients.toArray(new String[0]))).map(locked -> {
      Map<String, InboxHead> heads = new HashMap<>();
      for (Row row : locked) {
        heads.put(row.getString("recipient"), new InboxHead(row.getLong("last_seq"), row.getLong("stored")));
      }
      return heads;
    });
  }

  /**
   * Creates the missing inboxes, then locks every head until the commit: for room changes and room
   * copies, which are not run again when a concurrent writer creates one of their inboxes.
   */
  private static Future<Map<String, InboxHead>> createAndLockHeads(SqlConnection conn, SortedSet<String> recipients) {
    if (recipients.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    Future<RowSet<Row>> created = conn.preparedQuery(ENSURE_INBOXES).execute(Tuple.of(recipients.toArray(new String[0])));
    return Future.all(created, lockHeads(conn, recipients)).map(x -> x.resultAt(1));
  }

  /** The batch's stored keys: results of those still within the window, and those past it. */
  private record StoredKeys(Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult> live,
                            Set<AppendPlanner.SendKey> expired) {
  }

  private static Future<StoredKeys> loadSendKeys(SqlConnection conn, List<AppendRequest> batch, long since) {
    List<AppendPlanner.SendKey> keys = InboxRows.sendKeys(batch);
    StoredKeys found = new StoredKeys(new HashMap<>(), new HashSet<>());
    if (keys.isEmpty()) {
      return Future.succeededFuture(found);
    }
    String[] senders = keys.stream().map(AppendPlanner.SendKey::sender).toArray(String[]::new);
    String[] names = keys.stream().map(AppendPlanner.SendKey::key).toArray(String[]::new);
    return conn.preparedQuery(LOAD_SEND_KEYS).execute(Tuple.of(since, senders, names)).map(rows -> {
      for (Row row : rows) {
        if (row.getBoolean("live")) {
          InboxRows.putSendKey(row, found.live());
        } else {
          found.expired().add(new AppendPlanner.SendKey(row.getString("sender"), row.getString("send_key")));
        }
      }
      return found;
    });
  }

  /**
   * The plan's rows, one statement per table, pipelined. The new inboxes and keys go first, so that
   * one already stored fails the batch before it writes anything else.
   */
  private static List<Future<?>> write(SqlConnection conn, AppendPlanner.Plan plan, Map<String, InboxHead> locked,
                                       Set<AppendPlanner.SendKey> expired, List<CursorUpdate> cursors, long now,
                                       long since) {
    List<Future<?>> steps = new ArrayList<>(8);
    Map<Boolean, List<Tuple>> heads = InboxRows.heads(plan).stream()
        .collect(Collectors.partitioningBy(row -> locked.containsKey(row.getString(0))));
    if (!heads.get(false).isEmpty()) {
      steps.add(conn.preparedQuery(INSERT_INBOXES).execute(InboxRows.columns(heads.get(false),
          String.class, Long.class, Long.class)));
    }
    Map<Boolean, List<AppendPlanner.NewSendKey>> pastWindow = plan.newKeys().stream()
        .collect(Collectors.partitioningBy(k -> expired.contains(k.key())));
    List<Tuple> keys = InboxRows.sendKeys(pastWindow.get(false), now);
    List<Tuple> renewed = InboxRows.sendKeys(pastWindow.get(true), now);
    if (!keys.isEmpty()) {
      steps.add(conn.preparedQuery(INSERT_KEYS).execute(
          InboxRows.columns(keys, String.class, String.class, Long.class, String.class, String.class)));
    }
    if (!renewed.isEmpty()) {
      Tuple columns = InboxRows.columns(renewed, String.class, String.class, Long.class, String.class, String.class);
      steps.add(conn.preparedQuery(RENEW_KEYS).execute(Tuple.of(columns.getValue(0), columns.getValue(1), now,
          columns.getValue(3), columns.getValue(4), since, (long) renewed.size())));
    }
    insertMessages(conn, plan.rows(), steps);
    if (!plan.roomSeqs().isEmpty()) {
      List<Tuple> seqs = new ArrayList<>();
      new TreeMap<>(plan.roomSeqs()).forEach((room, seq) -> seqs.add(Tuple.of(room, seq)));
      steps.add(conn.preparedQuery(UPDATE_ROOM_SEQS).execute(InboxRows.columns(seqs, String.class, Long.class)));
    }
    if (!heads.get(true).isEmpty()) {
      steps.add(conn.preparedQuery(UPDATE_HEADS).execute(InboxRows.columns(heads.get(true),
          String.class, Long.class, Long.class)));
    }
    if (!cursors.isEmpty()) {
      // One row per device: a statement's upsert may not touch a row twice.
      Tuple columns = InboxRows.columns(InboxRows.cursors(InboxRows.highestPerDevice(cursors), now),
          String.class, String.class, Long.class, Long.class);
      steps.add(conn.preparedQuery(UPSERT_CURSORS).execute(Tuple.of(columns.getValue(0), columns.getValue(1),
          columns.getValue(2), now)));
    }
    return steps;
  }

  /** The messages' rows, and the body of each room message among them once. */
  private static void insertMessages(SqlConnection conn, List<StoredMessage> messages, List<Future<?>> steps) {
    if (messages.isEmpty()) {
      return;
    }
    steps.add(conn.preparedQuery(INSERT_MESSAGES).execute(InboxRows.columns(InboxRows.messages(messages),
        String.class, Long.class, String.class, String.class, String.class, Long.class, String.class, Long.class,
        String.class)));
    List<Tuple> bodies = InboxRows.roomBodies(messages);
    if (!bodies.isEmpty()) {
      steps.add(conn.preparedQuery(INSERT_ROOM_BODIES).execute(InboxRows.columns(bodies,
          String.class, Long.class, String.class, String.class, String.class, Long.class)));
    }
  }

  /** Runs one statement over all rows; answers how many rows it wrote. */
  private static Future<Integer> batch(SqlConnection conn, String sql, List<Tuple> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return conn.preparedQuery(sql).executeBatch(rows).map(result -> {
      int written = 0;
      for (RowSet<Row> one = result; one != null; one = one.next()) {
        written += one.rowCount();
      }
      return written;
    });
  }

  @Override
  public Future<InboxPage> read(String user, long after, int limit, long now) {
    return pool.preparedQuery(READ_PAGE)
        .execute(Tuple.of(user, after, now - config.retentionMillis(), limit))
        .map(rows -> {
          long head = 0;
          List<StoredMessage> messages = new ArrayList<>(rows.size());
          for (Row row : rows) {
            head = row.getLong("head");
            if (row.getString("msg_id") != null) {
              messages.add(InboxRows.message(row, user));
            }
          }
          return new InboxPage(after, head, messages);
        });
  }

  @Override
  public List<Future<InboxPage>> readPages(List<ReadRequest> reads, long now) {
    int n = reads.size();
    String[] users = new String[n];
    String[] devices = new String[n];
    Long[] afters = new Long[n];
    Integer[] limits = new Integer[n];
    for (int i = 0; i < n; i++) {
      ReadRequest read = reads.get(i);
      users[i] = read.user();
      devices[i] = read.device();
      afters[i] = read.after();
      limits[i] = read.limit();
    }
    Future<List<InboxPage>> all = pool.preparedQuery(READ_PAGES)
        .execute(Tuple.tuple().addArrayOfString(users).addArrayOfString(devices).addArrayOfLong(afters)
            .addArrayOfInteger(limits).addLong(now - config.retentionMillis()))
        .map(rows -> pages(reads, rows));
    List<Future<InboxPage>> pages = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int at = i;
      pages.add(all.map(list -> list.get(at)));
    }
    return pages;
  }

  /** The rows of {@link #READ_PAGES}, ordered by read and seq, as one page per read. */
  private static List<InboxPage> pages(List<ReadRequest> reads, RowSet<Row> rows) {
    long[] after = new long[reads.size()];
    long[] head = new long[reads.size()];
    List<List<StoredMessage>> messages = new ArrayList<>(reads.size());
    for (int i = 0; i < reads.size(); i++) {
      messages.add(new ArrayList<>());
    }
    for (Row row : rows) {
      int i = (int) (row.getLong("i") - 1);
      after[i] = row.getLong("after");
      head[i] = row.getLong("head");
      if (row.getString("msg_id") != null) {
        messages.get(i).add(InboxRows.message(row, reads.get(i).user()));
      }
    }
    List<InboxPage> pages = new ArrayList<>(reads.size());
    for (int i = 0; i < reads.size(); i++) {
      pages.add(new InboxPage(after[i], head[i], messages.get(i)));
    }
    return pages;
  }

  @Override
  public Future<RoomChangeResult> changeRoom(RoomChange change, long now) {
    return changeRoomHere(change, 0).map(plan -> plan.refused() != null
        ? RoomChangeResult.refused(plan.refused()) : new RoomChangeResult(null, plan.roomSeq(), plan.events()));
  }

  /**
   * One transaction that locks the room's row (a room being created: inserts it, so a concurrent
   * creation waits and then finds it), then the heads of the members told here, among them the
   * member the change is about, so that two changes about one member count that member's rooms one
   * after the other. {@code roomsElsewhere}: the member's rooms held by other shards.
   */
  Future<RoomChangePlanner.Plan> changeRoomHere(RoomChange change, int roomsElsewhere) {
    return pool.withConnection(conn -> {
      boolean[] ended = new boolean[1];
      String about = RoomChangePlanner.about(change);
      Future<RowSet<Row>> begun = conn.query("BEGIN").execute();
      Future<Map<String, RoomRules.View>> locked = lockRooms(conn, List.of(change.room()));
      return Future.all(begun, locked)
          .compose(x -> {
            RoomRules.View room = locked.result().getOrDefault(change.room(), RoomRules.View.NONE);
            Future<Boolean> claimed = change.op() == RoomChange.Op.CREATE && !room.exists()
                ? conn.preparedQuery("INSERT INTO rooms (room, owner, last_room_seq, created_at) VALUES ($1, $2, 0, $3)"
                    + " ON CONFLICT (room) DO NOTHING").execute(Tuple.of(change.room(), change.by(), change.ts()))
                    .map(rows -> rows.rowCount() == 1)
                : Future.succeededFuture(true);
            Future<Map<String, InboxHead>> heads = createAndLockHeads(conn,
                ownOnly(new TreeSet<>(roomPlanner.told(change, room))));
            Future<Long> count = conn.preparedQuery("SELECT count(*) FROM room_members WHERE member = $1")
                .execute(Tuple.of(about)).map(InboxRows::firstLong);
            return Future.all(claimed, heads, count).compose(y -> {
              RoomChangePlanner.Plan plan = claimed.result()
                  ? roomPlanner.plan(change, room, count.result().intValue() + roomsElsewhere, heads.result())
                  : RoomChangePlanner.refused(ErrorCode.ROOM_EXISTS);
              ended[0] = true;
              if (!plan.writes()) {
                return conn.query("ROLLBACK").execute().map(plan);
              }
              List<Future<?>> steps = writeChange(conn, change, plan);
              steps.add(conn.query("COMMIT").execute());
              return Future.all(steps).map(plan);
            });
          })
          .recover(e -> ended[0]
              ? Future.failedFuture(e)
              : conn.query("ROLLBACK").execute().transform(ignored -> Future.<RoomChangePlanner.Plan>failedFuture(e)));
    });
  }

  private static List<Future<?>> writeChange(SqlConnection conn, RoomChange change, RoomChangePlanner.Plan plan) {
    List<Future<?>> steps = new ArrayList<>();
    switch (change.op()) {
      case CREATE, ADD -> steps.add(conn.preparedQuery("INSERT INTO room_members (room, member, joined_seq, added_at)"
          + " VALUES ($1, $2, $3, $4)").execute(Tuple.of(change.room(), RoomChangePlanner.about(change), plan.roomSeq(),
          change.ts())));
      case REMOVE -> steps.add(conn.preparedQuery("DELETE FROM room_members WHERE room = $1 AND member = $2")
          .execute(Tuple.of(change.room(), change.member())));
      default -> throw new IllegalArgumentException(change.op().name());
    }
    steps.add(conn.preparedQuery("UPDATE rooms SET last_room_seq = $2 WHERE room = $1")
        .execute(Tuple.of(change.room(), plan.roomSeq())));
    insertMessages(conn, plan.events(), steps);
    if (!plan.heads().isEmpty()) {
      List<Tuple> heads = new ArrayList<>();
      new TreeMap<>(plan.heads()).forEach((user, head) -> heads.add(Tuple.of(user, head.lastSeq(), head.stored())));
      steps.add(conn.preparedQuery(UPDATE_HEADS).execute(InboxRows.columns(heads, String.class, Long.class, Long.class)));
    }
    return steps;
  }

  /**
   * Stores here the copies a room's shard made for members whose inboxes are here (room messages and
   * room events, seq to be given), each under its member's next seq; a room message's body once,
   * and none of a room message whose body is here already (a retry of one stored before). A room
   * message to a full inbox is not stored. Answers the copies stored, with their seqs.
   */
  Future<List<StoredMessage>> storeRoomCopies(List<StoredMessage> copies) {
    if (copies.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return pool.withConnection(conn -> {
      boolean[] ended = new boolean[1];
      List<Tuple> bodies = InboxRows.roomBodies(copies);
      Future<RowSet<Row>> begun = conn.query("BEGIN").execute();
      Future<RowSet<Row>> present = bodies.isEmpty() ? Future.succeededFuture(null)
          // By room and roomSeq alone: a retry may carry another time than the message stored.
          : conn.preparedQuery("SELECT room, room_seq FROM room_messages WHERE (room, room_seq) IN"
              + " (SELECT * FROM unnest($1::text[], $2::bigint[]))")
          .execute(roomKeys(bodies));
      SortedSet<String> members = new TreeSet<>();
      copies.forEach(c -> members.add(c.to()));
      Future<Map<String, InboxHead>> heads = createAndLockHeads(conn, members);
      return Future.all(begun, present, heads)
          .compose(x -> {
            java.util.Set<List<Object>> stored = new java.util.HashSet<>();
            if (present.result() != null) {
              present.result().forEach(row -> stored.add(List.of(row.getString(0), row.getLong(1))));
            }
            Map<String, InboxHead> moved = new HashMap<>();
            List<StoredMessage> written = new ArrayList<>();
            for (StoredMessage c : copies) {
              boolean message = c.event() == null;
              // A receipt about a room has no room on its row: its retries store nothing here.
              if (message && c.room() != null && stored.contains(List.of(c.room(), c.roomSeq()))) {
                continue;
              }
              InboxHead head = moved.getOrDefault(c.to(), heads.result().getOrDefault(c.to(), InboxHead.EMPTY));
              if (message && head.stored() >= config.maxMessagesPerUser()) {
                continue;
              }
              InboxHead next = new InboxHead(head.lastSeq() + 1, head.stored() + 1);
              moved.put(c.to(), next);
              written.add(new StoredMessage(c.msgId(), next.lastSeq(), c.from(), c.to(), c.body(), c.ts(), c.room(),
                  c.roomSeq(), c.event()));
            }
            List<Future<?>> steps = new ArrayList<>();
            insertMessages(conn, written, steps);
            if (!moved.isEmpty()) {
              List<Tuple> rows = new ArrayList<>();
              new TreeMap<>(moved).forEach((user, head) -> rows.add(Tuple.of(user, head.lastSeq(), head.stored())));
              steps.add(conn.preparedQuery(UPDATE_HEADS).execute(InboxRows.columns(rows, String.class, Long.class, Long.class)));
            }
            steps.add(conn.query("COMMIT").execute());
            ended[0] = true;
            return Future.all(steps).map(written);
          })
          .recover(e -> ended[0]
              ? Future.failedFuture(e)
              : conn.query("ROLLBACK").execute().transform(ignored -> Future.<List<StoredMessage>>failedFuture(e)));
    });
  }

  /** {@code (room[], room_seq[])} of room bodies' rows. */
  private static Tuple roomKeys(List<Tuple> bodies) {
    List<Tuple> keys = new ArrayList<>(bodies.size());
    bodies.forEach(b -> keys.add(Tuple.of(b.getString(0), b.getLong(1))));
    return InboxRows.columns(keys, String.class, Long.class);
  }

  @Override
  public Future<RoomInfo> room(String room) {
    return pool.preparedQuery(READ_ROOMS).execute(Tuple.of((Object) new String[] {room})).map(rows -> {
      RoomRules.View view = InboxRows.roomViews(rows).get(room);
      return view == null ? null : new RoomInfo(room, view.owner(), view.roomSeq(), List.copyOf(view.members()));
    });
  }

  /** The rooms of {@code user} this database holds: all of them, unless it is one shard of several. */
  @Override
  public Future<List<String>> rooms(String user) {
    return pool.preparedQuery("SELECT room FROM room_members WHERE member = $1").execute(Tuple.of(user))
        .map(InboxRows::sortedStrings);
  }

  /** The members of {@code room} who joined before {@code roomSeq}: those a message at it went to, save any removed since. */
  Future<List<String>> membersBefore(String room, long roomSeq) {
    return pool.preparedQuery("SELECT member FROM room_members WHERE room = $1 AND joined_seq < $2 ORDER BY joined_seq")
        .execute(Tuple.of(room, roomSeq))
        .map(rows -> {
          List<String> members = new ArrayList<>(rows.size());
          rows.forEach(row -> members.add(row.getString(0)));
          return members;
        });
  }

  @Override
  public Future<Long> cursor(String user, String device) {
    return pool.preparedQuery("SELECT seq FROM cursors WHERE recipient = $1 AND device = $2")
        .execute(Tuple.of(user, device))
        .map(InboxRows::firstLong);
  }

  @Override
  public Future<Map<DeviceKey, Long>> cursors(Collection<DeviceKey> devices) {
    List<DeviceKey> keys = List.copyOf(devices);
    String[] users = keys.stream().map(DeviceKey::user).toArray(String[]::new);
    String[] names = keys.stream().map(DeviceKey::device).toArray(String[]::new);
    Future<RowSet<Row>> query = pool.preparedQuery(READ_CURSORS)
        .execute(Tuple.tuple().addArrayOfString(users).addArrayOfString(names));
    return query.map(rows -> InboxRows.cursorsFound(keys, List.of(query)));
  }

  /**
   * Unless another node is purging (one purge at a time is enough, and two would only collide),
   * drops every partition whose rows are all past retention and deletes the expired rows of the
   * default partition and the expired idempotency keys; then creates the partitions ahead. A
   * partition still holding one unexpired row stays whole: reads skip its expired rows meanwhile.
   */
  @Override
  public Future<Long> purge(long now) {
    long cutoff = now - config.retentionMillis();
    return pool.withTransaction(conn -> conn.query("SELECT pg_try_advisory_xact_lock(" + PURGE_LOCK + ")").execute()
            .compose(rows -> rows.iterator().next().getBoolean(0)
                ? purgeDefault(conn, now).compose(n -> expiredPartitions(conn, cutoff).map(p -> new PurgeWork(n, p)))
                : Future.succeededFuture(new PurgeWork(0, List.of()))))
        .compose(work -> {
          Future<Long> chain = Future.succeededFuture(work.fromDefault());
          for (Expired expired : work.expired()) {
            chain = chain.compose(sum -> pool.withTransaction(conn -> dropPartition(conn, expired.table(), expired.start()))
                .map(n -> sum + n));
          }
          return chain;
        })
        .compose(removed -> ensurePartitions(now).map(removed));
  }

  private record PurgeWork(long fromDefault, List<Expired> expired) {
  }

  private record Expired(PartitionedTable table, long start) {
  }

  /** The partitions past retention, of messages first: a body goes no sooner than the copies referring to it. */
  private Future<List<Expired>> expiredPartitions(SqlConnection conn, long cutoff) {
    List<Expired> expired = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (PartitionedTable table : PARTITIONED) {
      chain = chain.compose(x -> conn.query(table.list()).execute().map(rows -> {
        partitions.expired(existingPartitions(table, rows), cutoff).forEach(start -> expired.add(new Expired(table, start)));
        return null;
      }));
    }
    return chain.map(x -> expired);
  }

  private Future<Long> purgeDefault(SqlConnection conn, long now) {
    return conn.preparedQuery(DELETE_EXPIRED_DEFAULT).execute(Tuple.of(now - config.retentionMillis()))
        .compose(rows -> lowerCounts(conn, rows))
        .compose(n -> conn.preparedQuery(DELETE_EXPIRED_ROOM_DEFAULT).execute(Tuple.of(now - config.retentionMillis())).map(n))
        .compose(n -> conn.preparedQuery("DELETE FROM send_keys WHERE created_at < $1")
            .execute(Tuple.of(now - config.idempotencyWindowMillis())).map(n));
  }

  /**
   * Lowers the inbox counts by the partition's rows, then drops it, in one transaction: the counts
   * and the rows go together. The heads are locked first, as appends lock them.
   */
  private Future<Long> dropPartition(SqlConnection conn, PartitionedTable table, long start) {
    String name = Partitions.name(table.prefix(), start);
    return conn.query("SELECT pg_advisory_xact_lock(" + PARTITION_LOCK + ")").execute()
        .compose(x -> conn.query("SELECT to_regclass('" + name + "') IS NULL").execute())
        .compose(gone -> gone.iterator().next().getBoolean(0)
            ? Future.succeededFuture(0L)
            : (table.counted()
                ? conn.query("SELECT recipient, count(*) FROM " + name + " GROUP BY recipient").execute()
                    .compose(rows -> lowerCounts(conn, rows))
                : Future.succeededFuture(0L))
                .compose(n -> conn.query("DROP TABLE " + name).execute().map(n))
                .onSuccess(n -> {
                  if (table.counted()) {
                    LOG.info("{} partition {} dropped by retention ({} messages)", table.table(), name, n);
                  } else {
                    LOG.info("{} partition {} dropped by retention", table.table(), name);
                  }
                }));
  }

  /** Lowers each inbox's count of stored messages by the (recipient, count) rows given; answers their sum. */
  private static Future<Long> lowerCounts(SqlConnection conn, RowSet<Row> counted) {
    Map<String, Long> removed = new TreeMap<>();
    counted.forEach(row -> removed.put(row.getString(0), row.getLong(1)));
    if (removed.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    List<Tuple> updates = new ArrayList<>(removed.size());
    removed.forEach((user, n) -> updates.add(Tuple.of(user, n)));
    long sum = removed.values().stream().mapToLong(Long::longValue).sum();
    return conn.preparedQuery(LOCK_HEADS).execute(Tuple.of(removed.keySet().toArray(new String[0])))
        .compose(x -> batch(conn, DECREMENT_STORED, updates))
        .map(x -> sum);
  }

  /** A round trip to the database: whether it answers at all. */
  Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  @Override
  public Future<Void> close() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
