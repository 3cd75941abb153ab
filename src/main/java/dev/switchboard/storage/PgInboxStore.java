package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The shared engine: PostgreSQL through the reactive pg client, for a cluster whose nodes all
 * write the same inboxes. No node may cache heads, so each batch locks the heads it touches
 * ({@code SELECT ... FOR UPDATE}, in recipient order so two nodes cannot deadlock), plans with the
 * same {@link AppendPlanner} as the embedded engine, and writes in the same transaction: per
 * recipient, seqs become visible in order and without holes whichever nodes append.
 */
public final class PgInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(PgInboxStore.class);

  private static final List<String> SCHEMA = List.of(
      "CREATE TABLE IF NOT EXISTS messages (recipient TEXT NOT NULL, seq BIGINT NOT NULL, msg_id TEXT NOT NULL,"
          + " sender TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (recipient, seq))",
      "CREATE INDEX IF NOT EXISTS messages_by_age ON messages (created_at)",
      "CREATE TABLE IF NOT EXISTS inboxes (recipient TEXT PRIMARY KEY, last_seq BIGINT NOT NULL, stored BIGINT NOT NULL)",
      "CREATE TABLE IF NOT EXISTS cursors (recipient TEXT NOT NULL, device TEXT NOT NULL, seq BIGINT NOT NULL,"
          + " updated_at BIGINT NOT NULL, PRIMARY KEY (recipient, device))",
      "CREATE TABLE IF NOT EXISTS send_keys (sender TEXT NOT NULL, send_key TEXT NOT NULL, created_at BIGINT NOT NULL,"
          + " fingerprint TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (sender, send_key))",
      "CREATE INDEX IF NOT EXISTS send_keys_by_age ON send_keys (created_at)");

  /** Advisory lock id held while creating the schema ("sbschema" in ASCII). */
  private static final long SCHEMA_LOCK = 0x7362736368656D61L;

  private static final String ENSURE_HEADS =
      "INSERT INTO inboxes (recipient, last_seq, stored) SELECT r, 0, 0 FROM unnest($1::text[]) AS r ON CONFLICT DO NOTHING";
  private static final String LOCK_HEADS =
      "SELECT recipient, last_seq, stored FROM inboxes WHERE recipient = ANY($1) ORDER BY recipient FOR UPDATE";
  private static final String LOAD_KEYS =
      "SELECT k.sender, k.send_key, k.fingerprint, k.result FROM send_keys k"
          + " JOIN unnest($2::text[], $3::text[]) AS w(sender, send_key) ON k.sender = w.sender AND k.send_key = w.send_key"
          + " WHERE k.created_at >= $1";
  private static final String INSERT_MESSAGE =
      "INSERT INTO messages (recipient, seq, msg_id, sender, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
  private static final String UPDATE_HEAD = "UPDATE inboxes SET last_seq = $2, stored = $3 WHERE recipient = $1";
  private static final String UPSERT_KEY =
      "INSERT INTO send_keys (sender, send_key, created_at, fingerprint, result) VALUES ($1, $2, $3, $4, $5)"
          + " ON CONFLICT (sender, send_key) DO UPDATE SET created_at = EXCLUDED.created_at,"
          + " fingerprint = EXCLUDED.fingerprint, result = EXCLUDED.result";
  private static final String UPSERT_CURSOR =
      "INSERT INTO cursors (recipient, device, seq, updated_at) VALUES ($1, $2, $3, $4)"
          + " ON CONFLICT (recipient, device) DO UPDATE SET seq = GREATEST(cursors.seq, EXCLUDED.seq),"
          + " updated_at = EXCLUDED.updated_at";
  /** Head and page in one statement, so both come from one snapshot. */
  private static final String READ_PAGE =
      "SELECT (SELECT last_seq FROM inboxes WHERE recipient = $1) AS head, m.msg_id, m.seq, m.sender, m.body, m.created_at"
          + " FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT msg_id, seq, sender, body, created_at FROM messages"
          + " WHERE recipient = $1 AND seq > $2 AND created_at >= $3 ORDER BY seq LIMIT $4) AS m ON true";

  private final Vertx vertx;
  private final InboxConfig config;
  private final AppendPlanner planner;
  private Pool pool;

  public PgInboxStore(Vertx vertx, InboxConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.planner = new AppendPlanner(config.maxMessagesPerUser());
  }

  @Override
  public Future<Void> open() {
    PgConnectOptions connect = PgConnectOptions.fromUri(config.postgresUri()).setPipeliningLimit(256);
    pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(config.postgresPoolSize()).setName("inbox-postgres"))
        .connectingTo(connect)
        .using(vertx)
        .build();
    // Nodes starting together must not race on CREATE TABLE: one holds the lock, the others wait.
    return pool.withTransaction(conn -> {
      Future<Void> chain = conn.query("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")").execute().mapEmpty();
      for (String statement : SCHEMA) {
        chain = chain.compose(x -> conn.query(statement).execute().mapEmpty());
      }
      return chain;
    }).onSuccess(x -> LOG.info("inbox store: PostgreSQL at {}:{}/{}", connect.getHost(), connect.getPort(),
        connect.getDatabase()));
  }

  @Override
  public Future<List<AppendResult>> append(List<AppendRequest> batch, List<CursorUpdate> cursors, long now) {
    TreeSet<String> recipients = new TreeSet<>();
    batch.forEach(r -> r.recipients().forEach(x -> recipients.add(x.to())));
    String[] sorted = recipients.toArray(new String[0]);
    return pool.withTransaction(conn -> {
      Future<Map<String, InboxHead>> heads = sorted.length == 0
          ? Future.succeededFuture(Map.of())
          : conn.preparedQuery(ENSURE_HEADS).execute(Tuple.tuple().addArrayOfString(sorted))
              .compose(x -> conn.preparedQuery(LOCK_HEADS).execute(Tuple.tuple().addArrayOfString(sorted)))
              .map(rows -> {
                Map<String, InboxHead> found = new HashMap<>();
                for (Row row : rows) {
                  found.put(row.getString(0), new InboxHead(row.getLong(1), row.getLong(2)));
                }
                return found;
              });
      return heads
          .compose(locked -> loadSendKeys(conn, batch, now).map(keys -> planner.plan(batch, locked, keys)))
          .compose(plan -> write(conn, plan, cursors, now).map(plan.results()));
    });
  }

  private Future<Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult>> loadSendKeys(SqlConnection conn,
                                                                                      List<AppendRequest> batch, long now) {
    List<String> senders = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (AppendRequest r : batch) {
      if (r.idempotencyKey() != null) {
        senders.add(r.from());
        keys.add(r.idempotencyKey());
      }
    }
    Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult> found = new HashMap<>();
    if (keys.isEmpty()) {
      return Future.succeededFuture(found);
    }
    Tuple params = Tuple.tuple().addLong(now - config.idempotencyWindowMillis())
        .addArrayOfString(senders.toArray(new String[0])).addArrayOfString(keys.toArray(new String[0]));
    return conn.preparedQuery(LOAD_KEYS).execute(params).map(rows -> {
      for (Row row : rows) {
        found.put(new AppendPlanner.SendKey(row.getString(0), row.getString(1)),
            new AppendPlanner.KeyedResult(row.getString(2), AppendResult.fromJson(new JsonObject(row.getString(3)))));
      }
      return found;
    });
  }

  private static Future<Void> write(SqlConnection conn, AppendPlanner.Plan plan, List<CursorUpdate> cursors, long now) {
    PlanRows rows = PlanRows.of(plan, cursors, now);
    return batch(conn, INSERT_MESSAGE, rows.messages())
        .compose(x -> batch(conn, UPDATE_HEAD, rows.heads()))
        .compose(x -> batch(conn, UPSERT_KEY, rows.keys()))
        .compose(x -> batch(conn, UPSERT_CURSOR, rows.cursors()));
  }

  private static Future<Void> batch(SqlConnection conn, String sql, List<Tuple> rows) {
    return rows.isEmpty() ? Future.succeededFuture() : conn.preparedQuery(sql).executeBatch(rows).mapEmpty();
  }

  @Override
  public Future<InboxPage> read(String user, long after, int limit, long now) {
    return pool.preparedQuery(READ_PAGE).execute(Tuple.of(user, after, now - config.retentionMillis(), limit))
        .map(rows -> {
          long head = 0;
          List<StoredMessage> messages = new ArrayList<>(rows.size());
          for (Row row : rows) {
            Long h = row.getLong(0);
            head = h == null ? 0 : h;
            if (row.getString(1) != null) {
              messages.add(new StoredMessage(row.getString(1), row.getLong(2), row.getString(3), user, row.getString(4),
                  row.getLong(5)));
            }
          }
          return new InboxPage(after, head, messages);
        });
  }

  @Override
  public Future<Long> cursor(String user, String device) {
    return pool.preparedQuery("SELECT seq FROM cursors WHERE recipient = $1 AND device = $2")
        .execute(Tuple.of(user, device))
        .map(rows -> rows.size() == 0 ? 0L : rows.iterator().next().getLong(0));
  }

  @Override
  public Future<Long> purge(long now) {
    long cutoff = now - config.retentionMillis();
    return pool.withTransaction(conn -> conn
        .preparedQuery("WITH gone AS (DELETE FROM messages WHERE created_at < $1 RETURNING recipient),"
            + " counted AS (SELECT recipient, count(*) AS n FROM gone GROUP BY recipient)"
            + " UPDATE inboxes i SET stored = GREATEST(i.stored - c.n, 0) FROM counted c WHERE i.recipient = c.recipient"
            + " RETURNING c.n")
        .execute(Tuple.of(cutoff))
        .compose(rows -> {
          long total = 0;
          for (Row row : rows) {
            total += row.getLong(0);
          }
          long removed = total;
          return conn.preparedQuery("DELETE FROM send_keys WHERE created_at < $1")
              .execute(Tuple.of(now - config.idempotencyWindowMillis())).map(removed);
        }));
  }

  @Override
  public Future<Void> close() {
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
