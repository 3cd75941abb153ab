package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.StoredMessage;
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
import java.util.List;

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
  @Test
  @DisplayName("a version 1 file with messages, cursors and keys opens as version 2: everything reads back and rooms work")
  void migratesVersion1(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    String url = "jdbc:sqlite:" + dataDir.toAbsolutePath().resolve("inbox.db");
    Files.createDirectories(dataDir);
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      for (String table : InboxRows.tables("INTEGER")) {
        s.execute(table);
      }
      s.execute("INSERT INTO messages (recipient, seq, msg_id, sender, body, created_at) VALUES ('bob', 1, 'm-1', 'alice', 'from v1', 1000)");
      s.execute("INSERT INTO inboxes (recipient, last_seq, stored) VALUES ('bob', 1, 1)");
      s.execute("INSERT INTO cursors (recipient, device, seq, updated_at) VALUES ('bob', 'phone', 1, 1000)");
      s.execute("PRAGMA user_version = 1");
    }
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> store.cursor("bob", "phone"))
        .compose(cursor -> {
          ctx.verify(() -> assertEquals(1L, cursor));
          return store.changeRoom(new RoomChange(RoomChange.Op.CREATE, "r", null, "alice", false, "e1", 2000), 2000);
        })
        .compose(v -> store.changeRoom(new RoomChange(RoomChange.Op.ADD, "r", "bob", "alice", false, "e2", 2000), 2000))
        .compose(v -> store.append(List.of(AppendRequest.toRoom("alice", "r", "r-1", "to the room", 3000, null, false)),
            List.of(), 3000))
        .compose(v -> store.read("bob", 0, 10, 3000))
        .compose(page -> {
          ctx.verify(() -> assertEquals(List.of(
              new StoredMessage("m-1", 1, "alice", "bob", "from v1", 1000),
              new StoredMessage("e2", 2, "alice", "bob", "bob", 2000, "r", 2, "added"),
              new StoredMessage("r-1", 3, "alice", "bob", "to the room", 3000, "r", 3, null)), page.messages()));
          return store.close();
        })
        .compose(v -> vertx.executeBlocking(() -> {
          try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
              rs.next();
              assertEquals(2, rs.getInt(1));
            }
            // The room message's body once, in room_messages; the members' rows reference it.
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM room_messages WHERE body = 'to the room'")) {
              rs.next();
              assertEquals(1, rs.getInt(1));
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM messages WHERE room = 'r' AND room_seq = 3 AND body = ''")) {
              rs.next();
              assertEquals(2, rs.getInt(1));
            }
          }
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a room message's body is purged once every member's copy is past retention")
  void roomBodiesPurged(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    String url = "jdbc:sqlite:" + dataDir.toAbsolutePath().resolve("inbox.db");
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> store.changeRoom(new RoomChange(RoomChange.Op.CREATE, "r", null, "alice", false, "e1", 0), 0))
        .compose(v -> store.append(List.of(AppendRequest.toRoom("alice", "r", "r-1", "old", 0, null, false)), List.of(), 0))
        .compose(v -> store.append(List.of(AppendRequest.toRoom("alice", "r", "r-2", "new", HOUR, null, false)), List.of(), HOUR))
        .compose(v -> store.purge(HOUR + 1))
        .compose(removed -> {
          ctx.verify(() -> assertEquals(2L, removed));
          return store.read("alice", 0, 10, HOUR + 1);
        })
        .compose(page -> {
          ctx.verify(() -> assertEquals(List.of("new"), page.messages().stream().map(StoredMessage::body).toList()));
          return store.close();
        })
        .compose(v -> vertx.executeBlocking(() -> {
          try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
               ResultSet rs = s.executeQuery("SELECT body FROM room_messages ORDER BY room_seq")) {
            List<String> bodies = new java.util.ArrayList<>();
            while (rs.next()) {
              bodies.add(rs.getString(1));
            }
            assertEquals(List.of("new"), bodies);
          }
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }
}
