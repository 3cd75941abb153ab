package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.InboxPage;
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
  @DisplayName("a version 1 file with messages opens under version 2 with nothing lost: the messages read back, "
      + "seqs go on, and rooms are stored")
  void migratesVersionOne(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    String url = "jdbc:sqlite:" + dataDir.toAbsolutePath().resolve("inbox.db");
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      for (String statement : InboxRows.tables("INTEGER")) {
        s.execute(statement);
      }
      s.execute("INSERT INTO messages VALUES ('bob', 1, 'm1', 'alice', 'one', 1), ('bob', 2, 'm2', 'alice', 'two', 2)");
      s.execute("INSERT INTO inboxes VALUES ('bob', 2, 2)");
      s.execute("PRAGMA user_version = 1");
    }
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> store.changeRoom(new RoomChange(RoomChange.Op.CREATE, "r", null, "bob", false, "e1", 3), 3))
        .compose(v -> store.append(List.of(AppendRequest.toRoom("bob", "r", "r1", "three", 4, null, false)), List.of(), 4))
        .compose(v -> store.read("bob", 0, 10, 5))
        .eventually(store::close)
        .compose(page -> vertx.executeBlocking(() -> {
          try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
               ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            rs.next();
            return List.of(page, rs.getInt(1));
          }
        }))
        .onComplete(ctx.succeeding(found -> ctx.verify(() -> {
          InboxPage page = (InboxPage) found.get(0);
          assertEquals(List.of("1 one", "2 two", "3 bob", "4 three"),
              page.messages().stream().map(m -> m.seq() + " " + m.body()).toList());
          assertEquals(SqliteInboxStore.SCHEMA_VERSION, found.get(1));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a message to a room of 10,000 members stores its body once and a reference per member")
  void bigRoomStoresOneBody(Vertx vertx, VertxTestContext ctx) throws Exception {
    int members = 10_000;
    InboxConfig config = config(100);
    String url = "jdbc:sqlite:" + dataDir.toAbsolutePath().resolve("inbox.db");
    InboxStore creator = newStore(vertx, config);
    InboxStore store = newStore(vertx, config);
    // The schema by a first open; the membership while no store has the file open.
    creator.open().compose(v -> creator.close())
        .compose(v -> vertx.executeBlocking(() -> {
          // Membership written directly: adding 10,000 members one by one would store an event per member per add.
          try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("INSERT INTO rooms VALUES ('big', 'u0', " + members + ", 0)");
            try (var insert = c.prepareStatement("INSERT INTO room_members VALUES ('big', ?, ?, 0)")) {
              for (int i = 0; i < members; i++) {
                insert.setString(1, "u" + i);
                insert.setLong(2, i + 1);
                insert.addBatch();
              }
              insert.executeBatch();
            }
            c.commit();
          }
          return null;
        }))
        .compose(v -> store.open())
        .compose(v -> store.append(List.of(AppendRequest.toRoom("u0", "big", "b1", "to everyone", 1, null, false)),
            List.of(), 1))
        .compose(results -> {
          ctx.verify(() -> {
            assertEquals(members + 1L, results.get(0).roomSeq());
            assertEquals(members, results.get(0).results().stream().filter(r -> r.isStored()).count());
          });
          return store.read("u9999", 0, 10, 2);
        })
        .compose(page -> {
          ctx.verify(() -> assertEquals(List.of("to everyone"), page.messages().stream().map(m -> m.body()).toList()));
          return store.close();
        })
        .compose(v -> vertx.executeBlocking(() -> {
          try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
               ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM room_messages), (SELECT count(*) FROM messages"
                   + " WHERE room = 'big'), (SELECT count(*) FROM messages WHERE room = 'big' AND body <> '')")) {
            rs.next();
            return List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3));
          }
        }))
        .onComplete(ctx.succeeding(counts -> ctx.verify(() -> {
          assertEquals(List.of(1L, (long) members, 0L), counts);
          ctx.completeNow();
        })));
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
