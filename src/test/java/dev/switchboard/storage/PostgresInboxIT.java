package dev.switchboard.storage;

import dev.switchboard.bus.Addresses;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole server on the PostgreSQL inbox: real sockets, a real database. */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PostgresInboxIT {

  @TempDir
  Path firstDir;

  @TempDir
  Path secondDir;

  @Test
  @DisplayName("with inbox.engine=postgres a message sent while the recipient is away is delivered when it comes back, "
      + "even to a new server with an empty data dir")
  void offlineMessageSurvivesInDatabase(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) {
    JsonObject sameDatabase = onPostgres(postgres);
    JsonObject push = new JsonObject().put("from", "alice").put("to", "bob").put("body", "while you were away");
    TestServer.start(vertx, firstDir, sameDatabase)
        .compose(first -> first.online("bob", "phone")
            .compose(bob -> bob.close())
            .compose(v -> vertx.eventBus().request(Addresses.PUSH, push))
            .compose(accepted -> first.stop()))
        // Nothing of the inbox is in the data dir: the new server finds it all in the database.
        .compose(v -> TestServer.start(vertx, secondDir, sameDatabase))
        .compose(second -> second.json("bob", "phone"))
        .compose(bob -> bob.expect("message").compose(message -> bob.expect("synced").map(synced -> message)))
        .onComplete(ctx.succeeding(message -> ctx.verify(() -> {
          assertEquals("while you were away", message.getString("body"));
          assertEquals("alice", message.getString("from"));
          assertEquals(1L, message.getLong("seq"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("on postgres too, an SQLite inbox.db in inbox.dataDir fails the start, naming the file: its messages are not in the database")
  void sqliteFileBesidePostgres(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    Path file = firstDir.resolve("inbox.db");
    Files.write(file, new byte[] {1, 2, 3});
    TestServer.start(vertx, firstDir, onPostgres(postgres))
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
          assertTrue(e.getMessage().contains("Moving from SQLite"), e.getMessage());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("with inbox.engine=postgres forty sessions starting at once each get their own backlog, after their own "
      + "device's cursor, then synced")
  void sessionsStartingTogetherReadTheirOwnBacklog(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) {
    int users = 40;
    TestServer.start(vertx, firstDir, onPostgres(postgres))
        .compose(server -> {
          // user i has i % 3 + 1 messages; the even ones have read and acked the first on this device
          Future<Void> stored = Future.succeededFuture();
          for (int i = 0; i < users; i++) {
            for (int m = 0; m <= i % 3; m++) {
              JsonObject push = new JsonObject().put("from", "alice").put("to", "u" + i).put("body", "m" + (m + 1));
              stored = stored.compose(v -> vertx.eventBus().request(Addresses.PUSH, push).mapEmpty());
            }
          }
          Future<Void> acked = stored;
          for (int i = 0; i < users; i += 2) {
            String user = "u" + i;
            acked = acked.compose(v -> server.json(user, "phone")
                .compose(client -> client.expect("message")
                    .compose(first -> client.send(new JsonObject().put("type", "ack").put("seq", 1)))
                    .compose(x -> client.close())));
          }
          return acked.compose(v -> {
            List<Future<List<Long>>> backlogs = new ArrayList<>();
            for (int i = 0; i < users; i++) {
              int expected = i % 3 + 1 - (i % 2 == 0 ? 1 : 0);
              backlogs.add(server.json("u" + i, "phone").compose(client -> client.expect("message", expected)
                  .compose(messages -> client.expect("synced")
                      .map(synced -> messages.stream().map(m -> m.getLong("seq")).toList()))));
            }
            return Future.all(backlogs).map(all -> all.<List<Long>>list());
          });
        })
        .onComplete(ctx.succeeding(backlogs -> ctx.verify(() -> {
          for (int i = 0; i < users; i++) {
            long first = i % 2 == 0 ? 2 : 1;
            assertEquals(LongStream.rangeClosed(first, i % 3 + 1).boxed().toList(), backlogs.get(i), "user u" + i);
          }
          ctx.completeNow();
        })));
  }

  /** A server's config with its inbox in a fresh database of {@code postgres}. */
  private static JsonObject onPostgres(TestPostgres postgres) {
    return new JsonObject().put("inbox", new JsonObject()
        .put("engine", "postgres").put("postgresUri", postgres.createDatabase()));
  }
}
