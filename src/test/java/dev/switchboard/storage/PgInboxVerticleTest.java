package dev.switchboard.storage;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.AppendBatch;
import dev.switchboard.bus.AppendBatchResult;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.RecordCodec;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.TestServer;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inbox verticle on PostgreSQL (a real server, a fresh database per test), driven over the event
 * bus as the router drives it: once a commit is held (here by a lock), a commit to other inboxes
 * starts beside it, up to {@code inbox.postgresCommitsInFlight}, while commits that share an inbox
 * still take turns in the order their sends arrived. Another writer (a node of the cluster) is played by a transaction of the
 * test that holds an inbox's row lock.
 */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PgInboxVerticleTest {

  private static final long UNBLOCKED_MILLIS = 5_000;

  @TempDir
  Path dataDir;

  private String uri;

  @BeforeEach
  void freshDatabase(TestPostgres postgres) {
    uri = postgres.createDatabase();
  }

  private Future<String> deploy(Vertx vertx, JsonObject inbox) throws Exception {
    JsonObject defaults = new JsonObject(Files.readString(Path.of("conf/config.json")));
    JsonObject settings = new JsonObject().put("engine", "postgres").put("postgresUri", uri)
        .put("postgresCommitIntervalMillis", 0).mergeIn(inbox);
    JsonObject config = defaults.mergeIn(TestServer.config(dataDir, new JsonObject().put("inbox", settings)), true);
    RecordCodec.registerAll(vertx.eventBus());
    return vertx.deployVerticle(new InboxVerticle(), new DeploymentOptions().setConfig(config));
  }

  private static AppendBatch send(String from, String key, String... to) {
    List<AppendRequest.Recipient> recipients = Arrays.stream(to)
        .map(user -> new AppendRequest.Recipient(user, "m-" + key + "-" + user)).toList();
    return new AppendBatch(List.of(new AppendRequest(from, "body " + key, System.currentTimeMillis(), key, recipients)));
  }

  private static Future<AppendBatchResult> append(Vertx vertx, AppendBatch batch) {
    return vertx.eventBus().<AppendBatchResult>request(Addresses.INBOX_APPEND, batch).map(m -> m.body());
  }

  /** A send that must not wait for a commit blocked elsewhere: it fails after {@link #UNBLOCKED_MILLIS}. */
  private static Future<AppendBatchResult> appendUnblocked(Vertx vertx, AppendBatch batch) {
    return vertx.eventBus().<AppendBatchResult>request(Addresses.INBOX_APPEND, batch,
        new DeliveryOptions().setSendTimeout(UNBLOCKED_MILLIS)).map(m -> m.body());
  }

  private static long seq(AppendBatchResult result) {
    return result.results().get(0).results().get(0).seq();
  }

  /** Another writer's transaction holding an inbox's row lock, as a node committing to it does. */
  private record Holder(Pool pool, SqlConnection conn) {

    /** Ends the transaction, which frees the row. */
    Future<Void> release() {
      return conn.query("ROLLBACK").execute().compose(x -> conn.close()).compose(x -> pool.close());
    }

    /** Completes once {@code count} transactions wait for a lock (the store's commits, blocked on the row). */
    Future<Void> waiters(Vertx vertx, int count) {
      return pool.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()").execute()
          .compose(rows -> rows.iterator().next().getLong(0) >= count
              ? Future.<Void>succeededFuture()
              : vertx.timer(20).compose(x -> waiters(vertx, count)));
    }
  }

  private Future<Holder> holdInbox(Vertx vertx, String user) {
    Pool other = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(uri)).using(vertx).build();
    return other.getConnection().compose(conn -> conn.query("BEGIN").execute()
        .compose(x -> conn.preparedQuery("SELECT last_seq FROM inboxes WHERE recipient = $1 FOR UPDATE")
            .execute(Tuple.of(user)))
        .map(rows -> {
          if (rows.size() != 1) {
            throw new IllegalStateException("no inbox row for " + user);
          }
          return new Holder(other, conn);
        }));
  }

  @Test
  @DisplayName("while a commit waits for an inbox another writer holds, a commit to other inboxes goes through")
  void commitsToOtherInboxesOverlap(Vertx vertx, VertxTestContext ctx) throws Exception {
    AtomicBoolean released = new AtomicBoolean();
    deploy(vertx, new JsonObject().put("postgresCommitsInFlight", 4))
        .compose(id -> append(vertx, send("alice", "a1", "bob")))
        .compose(first -> holdInbox(vertx, "bob"))
        .compose(holder -> {
          Future<AppendBatchResult> toBob = append(vertx, send("alice", "a2", "bob"));
          return holder.waiters(vertx, 1)
              .compose(x -> appendUnblocked(vertx, send("dave", "d1", "carol")))
              .compose(toCarol -> {
                ctx.verify(() -> {
                  assertFalse(released.get(), "the commit to carol waited for bob's");
                  assertEquals(1L, seq(toCarol));
                });
                released.set(true);
                return holder.release();
              })
              .compose(x -> toBob);
        })
        .onComplete(ctx.succeeding(toBob -> ctx.verify(() -> {
          assertEquals(2L, seq(toBob));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("sends that come while a commit of usual length runs wait for it and go together in the next commit")
  void commitsOfUsualLengthAreNotJoined(Vertx vertx, VertxTestContext ctx) throws Exception {
    deploy(vertx, new JsonObject().put("postgresCommitsInFlight", 4))
        .compose(id -> append(vertx, send("alice", "a1", "bob")))
        .compose(first -> append(vertx, send("alice", "a2", "bob")))
        .compose(timed -> {
          // The first starts at once; the others reach the node while it runs, to inboxes it does not write.
          Future<AppendBatchResult> running = append(vertx, send("alice", "a3", "bob"));
          Future<AppendBatchResult> toCarol = append(vertx, send("dave", "d1", "carol"));
          Future<AppendBatchResult> toErin = append(vertx, send("frank", "f1", "erin"));
          return Future.all(running, toCarol, toErin);
        })
        .compose(all -> transactions(vertx, "bob", "carol", "erin"))
        .onComplete(ctx.succeeding(xids -> ctx.verify(() -> {
          assertEquals(xids.get(1), xids.get(2), "carol's and erin's sends were committed apart");
          assertNotEquals(xids.get(0), xids.get(1), "the send to bob had started its commit alone");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("on PostgreSQL a commit starts no sooner than postgresCommitIntervalMillis after the last one started "
      + "(commitIntervalMillis is the log's), and sends queued meanwhile share it")
  void commitsAreSpacedByThePostgresInterval(Vertx vertx, VertxTestContext ctx) throws Exception {
    long[] sentFirst = new long[1];
    deploy(vertx, new JsonObject().put("postgresCommitIntervalMillis", 600).put("commitIntervalMillis", 0))
        .compose(id -> {
          sentFirst[0] = System.nanoTime();
          return append(vertx, send("alice", "a1", "bob"));
        })
        // The first commit started after the first send: these two cannot be committed before 600 ms after it.
        .compose(first -> Future.all(append(vertx, send("dave", "d1", "carol")), append(vertx, send("frank", "f1", "erin"))))
        .compose(both -> {
          long millis = (System.nanoTime() - sentFirst[0]) / 1_000_000;
          ctx.verify(() -> assertTrue(millis >= 600, "the second commit answered " + millis + " ms after the first send"));
          return transactions(vertx, "carol", "erin");
        })
        .onComplete(ctx.succeeding(xids -> ctx.verify(() -> {
          assertEquals(xids.get(0), xids.get(1), "the sends queued during the interval were committed apart");
          ctx.completeNow();
        })));
  }

  /** The transaction that last wrote each user's inbox head. */
  private Future<List<String>> transactions(Vertx vertx, String... users) {
    Pool pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(uri)).using(vertx).build();
    return pool.preparedQuery("SELECT recipient, xmin::text FROM inboxes WHERE recipient = ANY($1)")
        .execute(Tuple.tuple().addArrayOfString(users))
        .map(rows -> {
          Map<String, String> byUser = new HashMap<>();
          rows.forEach(row -> byUser.put(row.getString(0), row.getString(1)));
          return Arrays.stream(users).map(byUser::get).toList();
        })
        .andThen(done -> pool.close());
  }

  @Test
  @DisplayName("sends to an inbox whose commit waits on another writer wait behind it, and get their seqs in the order they came")
  void commitsToOneInboxKeepTheirOrder(Vertx vertx, VertxTestContext ctx) throws Exception {
    deploy(vertx, new JsonObject().put("postgresCommitsInFlight", 4))
        .compose(id -> append(vertx, send("alice", "a1", "bob")))
        .compose(first -> holdInbox(vertx, "bob"))
        .compose(holder -> {
          Future<AppendBatchResult> second = append(vertx, send("alice", "a2", "bob"));
          // Once the first waits on the row, the others queue behind it; were they sent to the database
          // too, the lock would hand out the seqs in whatever order they reached it.
          return holder.waiters(vertx, 1).compose(x -> {
            Future<AppendBatchResult> third = append(vertx, send("alice", "a3", "bob", "carol"));
            Future<AppendBatchResult> fourth = append(vertx, send("alice", "a4", "bob"));
            Future<AppendBatchResult> toDave = appendUnblocked(vertx, send("erin", "e1", "dave"));
            return toDave.compose(d -> holder.release()).compose(r -> Future.all(second, third, fourth));
          });
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertEquals(2L, seq(all.resultAt(0)));
          assertEquals(3L, seq(all.resultAt(1)));
          assertEquals(4L, seq(all.resultAt(2)));
          ctx.completeNow();
        })));
  }
}
