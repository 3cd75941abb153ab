package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.RoomChange;
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

/** Rooms on PostgreSQL: the migration to them, their bodies under retention, a big room, and two nodes at once. */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class PgRoomsTest {

  private static final long HOUR = 3_600_000;

  @TempDir
  Path dataDir;

  private InboxConfig config(String uri) throws Exception {
    JsonObject defaults = new JsonObject(Files.readString(Path.of("conf/config.json")));
    JsonObject inbox = new JsonObject().put("engine", "postgres").put("postgresUri", uri).put("postgresPoolSize", 4)
        .put("retentionSeconds", 3600).put("postgresPartitionSeconds", 3600).put("maxMessagesPerUser", 100_000);
    return InboxConfig.fromJson(defaults.mergeIn(TestServer.config(dataDir, new JsonObject().put("inbox", inbox)), true));
  }

  private static Pool admin(Vertx vertx, String uri) {
    return PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(uri)).using(vertx).build();
  }

  private static Future<Void> run(Pool admin, List<String> statements) {
    Future<Void> chain = Future.succeededFuture();
    for (String statement : statements) {
      chain = chain.compose(x -> admin.query(statement).execute().mapEmpty());
    }
    return chain;
  }

  private static Future<List<Object>> row(Pool admin, String sql) {
    return admin.query(sql).execute().map(rows -> {
      Row row = rows.iterator().next();
      List<Object> values = new ArrayList<>();
      for (int c = 0; c < row.size(); c++) {
        values.add(row.getValue(c));
      }
      return values;
    });
  }

  private static RoomChange change(RoomChange.Op op, String room, String member, String by, long ts) {
    return new RoomChange(op, room, member, by, false, "e-" + op + "-" + member + "-" + ts, ts);
  }

  @Test
  @DisplayName("a version 3 database with messages opens under version 4 with nothing lost, stores rooms, and "
      + "room bodies go with their partition when retention drops it")
  void migratesVersionThree(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    String uri = postgres.createDatabase();
    long now = System.currentTimeMillis();
    Pool admin = admin(vertx, uri);
    List<String> v3 = new ArrayList<>();
    v3.add("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    for (int i = 0; i < 3; i++) {
      v3.addAll(PgInboxStore.MIGRATIONS.get(i));
    }
    v3.add("INSERT INTO schema_version VALUES (1, 0), (2, 0), (3, 0)");
    v3.add("INSERT INTO messages VALUES ('bob', 1, 'm1', 'alice', 'before rooms', " + (now - 1000) + ")");
    v3.add("INSERT INTO inboxes VALUES ('bob', 1, 1)");
    PgInboxStore store = new PgInboxStore(vertx, config(uri));
    run(admin, v3)
        .compose(x -> store.open())
        .compose(x -> store.changeRoom(change(RoomChange.Op.CREATE, "r", null, "bob", now), now))
        .compose(x -> store.changeRoom(change(RoomChange.Op.ADD, "r", "alice", "bob", now), now))
        .compose(x -> store.append(List.of(AppendRequest.toRoom("alice", "r", "r1", "in the room", now, null, false)),
            List.of(), now))
        .compose(x -> store.read("bob", 0, 10, now))
        .compose(page -> {
          ctx.verify(() -> assertEquals(List.of("1 before rooms", "2 bob", "3 alice", "4 in the room"),
              page.messages().stream().map(m -> m.seq() + " " + m.body()).toList()));
          return row(admin, "SELECT (SELECT max(version) FROM schema_version),"
              + " (SELECT relkind::text FROM pg_class WHERE relname = 'room_messages'),"
              + " (SELECT count(*) FROM pg_inherits WHERE inhparent = 'room_messages'::regclass),"
              + " (SELECT count(*) FROM room_messages)");
        })
        .compose(found -> {
          ctx.verify(() -> {
            assertEquals(PgInboxStore.MIGRATIONS.size(), found.get(0));
            assertEquals("p", found.get(1), "room_messages is not partitioned");
            assertTrue((Long) found.get(2) > 1, "no time partitions of room_messages: " + found.get(2));
            assertEquals(1L, found.get(3));
          });
          // Far enough ahead that every partition holding today's rows is past retention.
          return store.purge(now + 3 * HOUR);
        })
        .compose(removed -> row(admin, "SELECT (SELECT count(*) FROM room_messages), (SELECT count(*) FROM messages),"
            + " (SELECT stored FROM inboxes WHERE recipient = 'bob')"))
        .eventually(() -> Future.all(store.close(), admin.close()))
        .onComplete(ctx.succeeding(found -> ctx.verify(() -> {
          assertEquals(List.of(0L, 0L, 0L), found);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a message to a room of 10,000 members stores its body once and a reference per member")
  void bigRoomStoresOneBody(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    String uri = postgres.createDatabase();
    int members = 10_000;
    long now = System.currentTimeMillis();
    Pool admin = admin(vertx, uri);
    PgInboxStore store = new PgInboxStore(vertx, config(uri));
    store.open()
        // Membership written directly: adding 10,000 members one by one would store an event per member per add.
        .compose(x -> run(admin, List.of("INSERT INTO rooms VALUES ('big', 'u0', " + members + ", 0)",
            "INSERT INTO room_members SELECT 'big', 'u' || i, i + 1, 0 FROM generate_series(0, " + (members - 1) + ") AS i")))
        .compose(x -> store.append(List.of(AppendRequest.toRoom("u0", "big", "b1", "to everyone", now, null, false)),
            List.of(), now))
        .compose(results -> {
          ctx.verify(() -> {
            assertEquals(members + 1L, results.get(0).roomSeq());
            assertEquals(members, results.get(0).results().stream().filter(RecipientResult::isStored).count());
          });
          return store.read("u9999", 0, 10, now);
        })
        .compose(page -> {
          ctx.verify(() -> assertEquals(List.of("to everyone"), page.messages().stream().map(StoredMessage::body).toList()));
          return row(admin, "SELECT (SELECT count(*) FROM room_messages), (SELECT count(*) FROM messages WHERE room = 'big'),"
              + " (SELECT count(*) FROM messages WHERE room = 'big' AND body <> '')");
        })
        .eventually(() -> Future.all(store.close(), admin.close()))
        .onComplete(ctx.succeeding(counts -> ctx.verify(() -> {
          assertEquals(List.of(1L, (long) members, 0L), counts);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("two nodes sending to a room while one removes a member: roomSeqs are unique and without holes, every "
      + "inbox holds them in roomSeq order, and the member removed gets nothing after the removal")
  void removalRacesSends(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    String uri = postgres.createDatabase();
    int sends = 20;
    InboxConfig config = config(uri);
    PgInboxStore nodeA = new PgInboxStore(vertx, config);
    PgInboxStore nodeB = new PgInboxStore(vertx, config);
    long[] removedAt = new long[1];
    Future.all(nodeA.open(), nodeB.open())
        .compose(x -> nodeA.changeRoom(change(RoomChange.Op.CREATE, "r", null, "alice", 1), 1))
        .compose(x -> nodeA.changeRoom(change(RoomChange.Op.ADD, "r", "bob", "alice", 1), 1))
        .compose(x -> nodeA.changeRoom(change(RoomChange.Op.ADD, "r", "carol", "alice", 1), 1))
        .compose(x -> {
          Future<Void> fromA = sendMany(nodeA, "alice", "a", sends);
          Future<Void> fromB = sendMany(nodeB, "bob", "b", sends / 2)
              .compose(y -> nodeB.changeRoom(change(RoomChange.Op.REMOVE, "r", "carol", "alice", 2), 2))
              .map(removed -> {
                removedAt[0] = removed.roomSeq();
                return null;
              })
              .compose(y -> sendMany(nodeB, "bob", "b2", sends / 2));
          return Future.all(fromA, fromB);
        })
        .compose(x -> Future.all(nodeA.read("alice", 0, 1000, 3), nodeA.read("bob", 0, 1000, 3),
            nodeA.read("carol", 0, 1000, 3)))
        .eventually(() -> Future.all(nodeA.close(), nodeB.close()))
        .onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
          int total = 3 + 2 * sends + 1;
          for (int i = 0; i < 2; i++) {
            List<Long> roomSeqs = ((InboxPage) pages.resultAt(i)).messages().stream().map(StoredMessage::roomSeq).toList();
            List<Long> expected = new ArrayList<>();
            for (long s = i + 1; s <= total; s++) {
              expected.add(s);
            }
            assertEquals(expected, roomSeqs);
          }
          List<StoredMessage> carol = ((InboxPage) pages.resultAt(2)).messages();
          StoredMessage last = carol.get(carol.size() - 1);
          assertEquals("removed", last.event());
          assertEquals(removedAt[0], last.roomSeq());
          assertTrue(carol.stream().allMatch(m -> m.roomSeq() <= removedAt[0]), "carol got a message after her removal");
          ctx.completeNow();
        })));
  }

  /** {@code n} room messages one after another, as one inbox verticle commits them. */
  private static Future<Void> sendMany(PgInboxStore node, String from, String tag, int n) {
    Future<List<AppendResult>> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      AppendRequest request = AppendRequest.toRoom(from, "r", tag + i, tag + i, 2, null, false);
      chain = chain.compose(x -> node.append(List.of(request), List.of(), 2));
    }
    return chain.mapEmpty();
  }
}
