package dev.switchboard.storage;

import dev.switchboard.bus.Addresses;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.TestServer;
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
    JsonObject onPostgres = new JsonObject().put("inbox", new JsonObject()
        .put("engine", "postgres").put("postgresUri", postgres.createDatabase()));
    JsonObject push = new JsonObject().put("from", "alice").put("to", "bob").put("body", "while you were away");
    TestServer.start(vertx, firstDir, onPostgres)
        .compose(first -> first.online("bob", "phone")
            .compose(bob -> bob.close())
            .compose(v -> vertx.eventBus().request(Addresses.PUSH, push))
            .compose(accepted -> first.stop()))
        // Nothing of the inbox is in the data dir: the new server finds it all in the database.
        .compose(v -> TestServer.start(vertx, secondDir, onPostgres))
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
    JsonObject onPostgres = new JsonObject().put("inbox", new JsonObject()
        .put("engine", "postgres").put("postgresUri", postgres.createDatabase()));
    TestServer.start(vertx, firstDir, onPostgres)
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
          assertTrue(e.getMessage().contains("Moving from SQLite"), e.getMessage());
          ctx.completeNow();
        })));
  }
}
