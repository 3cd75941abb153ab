package dev.switchboard.storage;

import dev.switchboard.config.InboxConfig;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How PostgreSQL plans the store's commit statements in the sessions the store opens. A database
 * starts empty and its tables grow under the first commits, faster than autovacuum analyzes them:
 * a plan made once for an empty table and reused (PostgreSQL's generic plan of a prepared
 * statement) would scan the whole table in every later commit.
 */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class PgPlansTest {

  @TempDir
  Path dataDir;

  private InboxConfig config(String uri) throws Exception {
    JsonObject defaults = new JsonObject(Files.readString(Path.of("conf/config.json")));
    JsonObject inbox = new JsonObject().put("engine", "postgres").put("postgresUri", uri).put("postgresPoolSize", 1);
    return InboxConfig.fromJson(defaults.mergeIn(TestServer.config(dataDir, new JsonObject().put("inbox", inbox)), true));
  }

  /** A commit statement, the table it reads, the index it must use there, and arguments for it. */
  private record Lookup(String name, String sql, String table, String index, String arguments) {
  }

  /** The commit's statements that read or lock rows by key. */
  private static final List<Lookup> LOOKUPS = List.of(
      new Lookup("key_lookup", PgInboxStore.LOAD_SEND_KEYS, "send_keys", "send_keys_pkey", "(0, '{u7}', '{k7}')"),
      new Lookup("key_renewal", PgInboxStore.RENEW_KEYS, "send_keys", "send_keys_pkey",
          "('{u7}', '{k7}', 2, '{f}', '{r}', 0, 0)"),
      new Lookup("lock_heads", PgInboxStore.LOCK_HEADS, "inboxes", "inboxes_pkey", "('{u7,u8}')"),
      new Lookup("update_heads", PgInboxStore.UPDATE_HEADS, "inboxes", "inboxes_pkey", "('{u7}', '{2}', '{2}')"),
      new Lookup("lock_rooms", PgInboxStore.LOCK_ROOMS, "rooms", "rooms_pkey", "('{r7,r8}')"),
      new Lookup("read_rooms", PgInboxStore.READ_ROOMS, "room_members", "room_members_pkey", "('{r7,r8}')"),
      new Lookup("update_room_seqs", PgInboxStore.UPDATE_ROOM_SEQS, "rooms", "rooms_pkey", "('{r7}', '{2}')"));

  @Test
  @DisplayName("in the store's sessions, the commit's lookups, first run on empty tables, use their primary keys "
      + "once the tables have grown, before any ANALYZE")
  void plansFollowTheTablesAsTheyGrow(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    checkPlansAfterGrowth(vertx, ctx, postgres, "BEGIN", LOOKUPS);
  }

  @Test
  @DisplayName("in a group commit's transaction, where each statement keeps its first plan, the commit's lookups "
      + "planned on empty tables use their primary keys once the tables have grown")
  void aCommitsKeptPlansLookRowsUpByKey(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    checkPlansAfterGrowth(vertx, ctx, postgres, PgInboxStore.BEGIN_COMMIT, LOOKUPS);
  }

  /**
   * Prepares and runs each lookup on the store's empty tables, in transactions opened by
   * {@code begin}, more times than PostgreSQL makes custom plans for before it may settle on a
   * generic one; then grows the tables without analyzing them, and checks the plan each lookup
   * would now run in such a transaction: an index lookup by its condition, not a whole-table scan.
   */
  private void checkPlansAfterGrowth(Vertx vertx, VertxTestContext ctx, TestPostgres postgres, String begin,
                                     List<Lookup> lookups) throws Exception {
    String uri = postgres.createDatabase();
    PgInboxStore store = new PgInboxStore(vertx, config(uri));
    // One connection with the store's own options: the session settings under test are the store's.
    Pool session = PgBuilder.pool().with(new PoolOptions().setMaxSize(1))
        .connectingTo(PgInboxStore.connectOptions(uri)).using(vertx).build();
    List<String> plans = new ArrayList<>();
    store.open()
        .compose(v -> store.close())
        .compose(v -> session.withConnection(conn -> {
          Future<?> chain = Future.succeededFuture();
          for (String table : List.of("send_keys", "inboxes", "rooms", "room_members")) {
            chain = chain.compose(x -> run(conn, "ALTER TABLE " + table + " SET (autovacuum_enabled = false)"));
          }
          for (Lookup lookup : lookups) {
            chain = chain.compose(x -> run(conn, "PREPARE " + lookup.name() + " AS " + lookup.sql()));
            for (int i = 0; i < 8; i++) {
              chain = chain.compose(x -> run(conn, begin))
                  .compose(x -> run(conn, "EXECUTE " + lookup.name() + lookup.arguments()))
                  .compose(x -> run(conn, "COMMIT"));
            }
          }
          chain = chain
              .compose(x -> run(conn, "INSERT INTO send_keys SELECT 'u' || i, 'k' || i, 1, 'f', 'r'"
                  + " FROM generate_series(1, 50000) AS i"))
              .compose(x -> run(conn, "INSERT INTO inboxes SELECT 'u' || i, 1, 1 FROM generate_series(1, 50000) AS i"))
              .compose(x -> run(conn, "INSERT INTO rooms SELECT 'r' || i, 'u1', 1, 1 FROM generate_series(1, 50000) AS i"))
              .compose(x -> run(conn, "INSERT INTO room_members SELECT 'r' || i, 'u' || i, 1, 1"
                  + " FROM generate_series(1, 50000) AS i"));
          for (Lookup lookup : lookups) {
            chain = chain.compose(x -> run(conn, begin))
                .compose(x -> run(conn, "EXPLAIN EXECUTE " + lookup.name() + lookup.arguments()))
                .map(rows -> {
                  StringBuilder plan = new StringBuilder();
                  rows.forEach(row -> plan.append(row.getString(0)).append('\n'));
                  plans.add(plan.toString());
                  return rows;
                })
                .compose(x -> run(conn, "ROLLBACK"));
          }
          return chain;
        }))
        .eventually(session::close)
        .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
          for (int i = 0; i < lookups.size(); i++) {
            Lookup lookup = lookups.get(i);
            String plan = plans.get(i);
            assertFalse(plan.contains("Seq Scan on " + lookup.table()), lookup.name() + " scans " + lookup.table()
                + " whole:\n" + plan);
            assertTrue(plan.contains(lookup.index()), lookup.name() + " does not use " + lookup.index() + ":\n" + plan);
            // An index read without a condition is a whole-table scan too.
            assertTrue(plan.contains("Index Cond"), lookup.name() + " reads " + lookup.index() + " whole:\n" + plan);
          }
          ctx.completeNow();
        })));
  }

  private static Future<RowSet<Row>> run(SqlConnection conn, String sql) {
    return conn.query(sql).execute();
  }
}
