package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.StoredMessage;
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
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The time partitions of the PostgreSQL messages table, and the migration of a version 2 database to them. */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PgPartitionsTest {

  private static final long HOUR = 3_600_000;

  @TempDir
  Path dataDir;

  private InboxConfig config(String uri, long retentionSeconds) throws Exception {
    JsonObject defaults = new JsonObject(Files.readString(Path.of("conf/config.json")));
    JsonObject inbox = new JsonObject().put("engine", "postgres").put("postgresUri", uri).put("postgresPoolSize", 2)
        .put("retentionSeconds", retentionSeconds).put("postgresPartitionSeconds", 3600);
    return InboxConfig.fromJson(defaults.mergeIn(TestServer.config(dataDir, new JsonObject().put("inbox", inbox)), true));
  }

  private static AppendRequest toBob(long ts, String body) {
    return new AppendRequest("alice", body, ts, null, List.of(new AppendRequest.Recipient("bob", "m-" + body)));
  }

  private static Pool admin(Vertx vertx, String uri) {
    return PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(uri)).using(vertx).build();
  }

  @Test
  @DisplayName("retention drops a partition once all its rows are past it, lowering the inbox's count by them; a "
      + "partition holding an expired and an unexpired row stays whole, and reads skip the expired one")
  void retentionDropsWholePartitions(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    String uri = postgres.createDatabase();
    PgInboxStore store = new PgInboxStore(vertx, config(uri, 3600));
    Pool admin = admin(vertx, uri);
    List<AppendRequest> batch = List.of(toBob(10, "early"), toBob(HOUR - 10, "late"), toBob(HOUR + 1, "expired"),
        toBob(HOUR + 10, "fresh"));
    store.open()
        // The purge at the test's clock creates the partitions around it, as the purge timer does.
        .compose(v -> store.purge(0))
        .compose(n -> store.append(batch, List.of(), HOUR + 10))
        .compose(x -> store.purge(2 * HOUR + 5))
        .compose(removed -> {
          ctx.verify(() -> assertEquals(2L, removed, "only the first hour's partition, whose rows are all past retention"));
          return store.read("bob", 0, 10, 2 * HOUR + 5);
        })
        .compose(page -> {
          ctx.verify(() -> {
            assertEquals(4, page.head());
            assertEquals(List.of("fresh"), page.messages().stream().map(StoredMessage::body).toList());
          });
          return admin.query("SELECT to_regclass('messages_p0') IS NULL, (SELECT count(*) FROM messages_p3600000),"
              + " (SELECT stored FROM inboxes WHERE recipient = 'bob')").execute();
        })
        .eventually(() -> Future.all(store.close(), admin.close()))
        .onComplete(ctx.succeeding(rows -> ctx.verify(() -> {
          Row row = rows.iterator().next();
          assertTrue(row.getBoolean(0), "the expired partition is still there");
          assertEquals(2L, row.getLong(1), "the partition with an unexpired row lost rows");
          assertEquals(2L, row.getLong(2));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a store just opened has the partitions its commits write into until the purge after next: no "
      + "row goes to the default partition, whose rows are deleted one by one")
  void rowsLandInRangePartitions(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    String uri = postgres.createDatabase();
    InboxConfig config = config(uri, 48 * 3600);
    PgInboxStore store = new PgInboxStore(vertx, config);
    Pool admin = admin(vertx, uri);
    long now = System.currentTimeMillis();
    // Now, the next hour, and just before the purge after next (the latest a node writes before it creates more).
    List<AppendRequest> batch = List.of(toBob(now, "now"), toBob(now + HOUR, "next hour"),
        toBob(now + 2 * config.purgeIntervalMillis() - 1, "before the purge after next"));
    store.open()
        .compose(v -> store.append(batch, List.of(), now))
        .compose(x -> admin.query("SELECT (SELECT count(*) FROM messages_default), (SELECT count(*) FROM messages)").execute())
        .eventually(() -> Future.all(store.close(), admin.close()))
        .onComplete(ctx.succeeding(rows -> ctx.verify(() -> {
          Row row = rows.iterator().next();
          assertEquals(0L, row.getLong(0), "rows went to the default partition");
          assertEquals(3L, row.getLong(1));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a version 2 database with messages, keys and cursors opens under the newest version with nothing lost: "
      + "old and recent messages read back, the cursor and key hold, and seqs go on")
  void migratesVersionTwo(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    String uri = postgres.createDatabase();
    long now = System.currentTimeMillis();
    Pool admin = admin(vertx, uri);
    List<String> v2 = new ArrayList<>();
    v2.add("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    v2.addAll(PgInboxStore.MIGRATIONS.get(0));
    v2.addAll(PgInboxStore.MIGRATIONS.get(1));
    v2.add("INSERT INTO schema_version VALUES (1, 0), (2, 0)");
    v2.add("INSERT INTO messages VALUES ('bob', 1, 'm1', 'alice', 'a day ago', " + (now - 24 * HOUR) + "),"
        + " ('bob', 2, 'm2', 'alice', 'just now', " + (now - 1000) + ")");
    v2.add("INSERT INTO inboxes VALUES ('bob', 2, 2)");
    v2.add("INSERT INTO cursors VALUES ('bob', 'phone', 1, " + now + ")");
    AppendResult keyed = new AppendResult(false, List.of(dev.switchboard.bus.RecipientResult.stored("bob", "m2", 2, now - 1000)));
    AppendRequest retry = new AppendRequest("alice", "just now", now - 1000, "k", List.of(new AppendRequest.Recipient("bob", "other")));
    PgInboxStore store = new PgInboxStore(vertx, config(uri, 48 * 3600));
    Future<Void> created = Future.succeededFuture();
    for (String statement : v2) {
      created = created.compose(x -> admin.query(statement).execute().mapEmpty());
    }
    created
        .compose(x -> admin.preparedQuery("INSERT INTO send_keys VALUES ('alice', 'k', $1, $2, $3)")
            .execute(Tuple.of(now - 1000, AppendPlanner.fingerprint(retry), keyed.encode())))
        .compose(x -> store.open())
        .compose(x -> Future.all(store.read("bob", 0, 10, now), store.cursor("bob", "phone"),
            store.append(List.of(retry, toBob(now, "after")), List.of(), now)))
        .compose(all -> {
          InboxPage page = all.resultAt(0);
          List<AppendResult> appended = all.resultAt(2);
          ctx.verify(() -> {
            assertEquals(List.of("a day ago", "just now"), page.messages().stream().map(StoredMessage::body).toList());
            assertEquals(1L, (Long) all.resultAt(1));
            assertTrue(appended.get(0).duplicate());
            assertEquals(keyed.results(), appended.get(0).results());
            assertEquals(3L, appended.get(1).results().get(0).seq());
          });
          return admin.query("SELECT (SELECT max(version) FROM schema_version),"
              + " (SELECT relkind::text FROM pg_class WHERE relname = 'messages'), (SELECT count(*) FROM messages),"
              + " to_regclass('messages_v2') IS NULL").execute();
        })
        .eventually(() -> Future.all(store.close(), admin.close()))
        .onComplete(ctx.succeeding(rows -> ctx.verify(() -> {
          Row row = rows.iterator().next();
          assertEquals(PgInboxStore.MIGRATIONS.size(), row.getInteger(0));
          assertEquals("p", row.getString(1), "messages is not partitioned");
          assertEquals(3L, row.getLong(2));
          assertTrue(row.getBoolean(3));
          ctx.completeNow();
        })));
  }
}
