package dev.switchboard.storage;

import dev.switchboard.config.InboxConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store contract on the embedded engine: SQLite on a real file in a temporary directory. */
class SqliteInboxStoreTest extends InboxStoreContractTest {

  @Override
  JsonObject engineSettings() {
    return new JsonObject().put("engine", "sqlite");
  }

  @Override
  InboxStore newStore(Vertx vertx, InboxConfig config) {
    return new SqliteInboxStore(vertx, config);
  }

  @Test
  @DisplayName("the file records its schema version, and a file from a newer version is refused")
  void schemaVersion(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    String url = "jdbc:sqlite:" + dataDir.toAbsolutePath().resolve("inbox.db");
    InboxStore store = newStore(vertx, config);
    store.open().compose(v -> store.close())
        .compose(v -> vertx.executeBlocking(() -> {
          try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
              rs.next();
              assertEquals(SqliteInboxStore.SCHEMA_VERSION, rs.getInt(1));
            }
            s.execute("PRAGMA user_version = " + (SqliteInboxStore.SCHEMA_VERSION + 1));
          }
          return null;
        }))
        .compose(v -> newStore(vertx, config).open())
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertTrue(e.getMessage().contains("newer than this build knows"), e.getMessage());
          assertTrue(Files.exists(dataDir.resolve("inbox.db")));
          ctx.completeNow();
        })));
  }
}
