package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.support.PostgresProxy;
import dev.switchboard.support.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store contract on two PostgreSQL shards (two databases of the tests' one server: each shard
 * is a database, wherever it runs), and what only shards must do. With two shards bob and carol
 * live on shard 0, alice and dave on shard 1 ({@link ShardMapTest}), so the contract's sends from
 * alice to bob cross shards.
 */
@ExtendWith(TestPostgres.Extension.class)
class ShardedInboxStoreTest extends InboxStoreContractTest {

  private String shard0;
  private String shard1;

  @BeforeEach
  void freshDatabases(TestPostgres postgres) {
    shard0 = postgres.createDatabase();
    shard1 = postgres.createDatabase();
  }

  @Override
  JsonObject engineSettings() {
    return shards(shard0, shard1);
  }

  private static JsonObject shards(String... uris) {
    return new JsonObject().put("engine", "postgres").put("postgresUris", new JsonArray(List.of((Object[]) uris)))
        .put("postgresPoolSize", 2);
  }

  @Override
  InboxStore newStore(Vertx vertx, InboxConfig config) {
    return new ShardedInboxStore(vertx, config);
  }

  private static AppendRequest send(String from, String key, String... to) {
    return new AppendRequest(from, "hello from " + from, 5, key, java.util.Arrays.stream(to)
        .map(t -> new AppendRequest.Recipient(t, "m-" + t + "-" + key)).toList());
  }

  private static List<String> bodies(InboxPage page) {
    return page.messages().stream().map(StoredMessage::body).toList();
  }

  @Test
  @DisplayName("a keyed send to recipients on both shards stores each copy on its recipient's shard, and its retry "
      + "replays exactly the first answer")
  void sendAcrossShards(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    AppendRequest toAll = send("alice", "k", "bob", "dave", "carol");
    store.open()
        .compose(v -> store.append(List.of(toAll, send("carol", null, "dave")), List.of(), 5))
        .compose(first -> store.append(List.of(toAll), List.of(), 6).map(retry -> List.of(first.get(0), retry.get(0),
            first.get(1))))
        .compose(answers -> {
          ctx.verify(() -> {
            AppendResult first = answers.get(0);
            assertFalse(first.duplicate());
            assertEquals(List.of(RecipientResult.stored("bob", "m-bob-k", 1, 5), RecipientResult.stored("dave", "m-dave-k", 1, 5),
                RecipientResult.stored("carol", "m-carol-k", 1, 5)), first.results());
            assertTrue(answers.get(1).duplicate());
            assertEquals(first.results(), answers.get(1).results());
            assertEquals(2L, answers.get(2).results().get(0).seq());
          });
          return Future.all(store.read("bob", 0, 10, 7), store.read("dave", 0, 10, 7), store.read("carol", 0, 10, 7));
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
          assertEquals(List.of("hello from alice"), bodies(pages.resultAt(0)));
          assertEquals(List.of("hello from alice", "hello from carol"), bodies(pages.resultAt(1)));
          assertEquals(List.of("hello from alice"), bodies(pages.resultAt(2)));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("shards listed in another count or order refuse to start, naming the migration, and a refused "
      + "start marks no database: the first list still opens")
  void refusesAnotherShardLayout(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    String shard2 = postgres.createDatabase();
    InboxConfig two = config(100);
    InboxConfig three = config(100, shards(shard0, shard1, shard2));
    InboxConfig swapped = config(100, shards(shard1, shard0));
    InboxConfig thirdFirst = config(100, shards(shard2, shard1));
    InboxStore first = newStore(vertx, two);
    first.open().compose(v -> first.close())
        .compose(v -> newStore(vertx, three).open().transform(Future::succeededFuture))
        .compose(grown -> newStore(vertx, swapped).open().transform(Future::succeededFuture).map(reordered -> {
          ctx.verify(() -> {
            assertTrue(grown.failed(), "three shards opened over two");
            assertTrue(grown.cause().getMessage().contains("is shard 0 of 2, but inbox.postgresUris lists it as shard 0 of 3"),
                grown.cause().getMessage());
            assertTrue(grown.cause().getMessage().contains("Changing the shard count"), grown.cause().getMessage());
            assertTrue(reordered.failed(), "swapped shards opened");
          });
          return reordered;
        }))
        // shard2 was listed by the refused start: were it marked as shard 2 of 3, this would fail.
        .compose(x -> {
          InboxStore other = newStore(vertx, thirdFirst);
          return other.open().compose(v -> other.close());
        })
        .compose(x -> {
          InboxStore again = newStore(vertx, two);
          return again.open().compose(v -> again.close());
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with one shard down, its recipients are answered unavailable, keyed sends of its users fail, and "
      + "the other shard's users go on; once it is back, a retry stores what was missing and replays the rest")
  void oneShardDown(Vertx vertx, VertxTestContext ctx) throws Exception {
    PostgresProxy proxy = PostgresProxy.start(vertx, shard0).toCompletionStage().toCompletableFuture().get();
    InboxStore store = newStore(vertx, config(100, shards(proxy.uri(), shard1).put("postgresShardTimeoutMillis", 300)));
    AppendRequest keyedAcross = send("alice", "k", "dave", "bob");
    store.open()
        .compose(v -> proxy.down())
        .compose(v -> store.append(List.of(send("dave", null, "alice"), send("alice", null, "bob", "dave"), keyedAcross,
            send("carol", "c", "dave")), List.of(), 5))
        .compose(answers -> {
          ctx.verify(() -> {
            assertTrue(answers.get(0).results().get(0).isStored(), "shard 1 alone stopped too");
            assertEquals(ErrorCode.UNAVAILABLE, answers.get(1).results().get(0).error());
            assertTrue(answers.get(1).results().get(1).isStored());
            assertTrue(answers.get(2).results().get(0).isStored());
            assertEquals(ErrorCode.UNAVAILABLE, answers.get(2).results().get(1).error());
            assertEquals(ErrorCode.UNAVAILABLE, answers.get(3).results().get(0).error(),
                "a keyed send of shard 0's user was stored without its key");
          });
          return proxy.up();
        })
        // Retried as a client does, until the shard has answered a probe and takes commits again.
        .compose(v -> untilStored(vertx, store, keyedAcross))
        .compose(retry -> {
          ctx.verify(() -> {
            assertFalse(retry.duplicate(), "bob's copy is new");
            assertEquals(List.of(RecipientResult.stored("dave", "m-dave-k", 2, 5), RecipientResult.stored("bob", "m-bob-k", 1, 5)),
                retry.results());
          });
          return Future.all(store.read("bob", 0, 10, 7), store.read("dave", 0, 10, 7));
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
          assertEquals(List.of("hello from alice"), bodies(pages.resultAt(0)));
          assertEquals(List.of("hello from alice", "hello from alice"), bodies(pages.resultAt(1)));
          assertEquals(2L, ((InboxPage) pages.resultAt(1)).head(), "dave got the keyed send twice");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("with one shard down, a read of many cursors answers those of the other shard and leaves out its own")
  void cursorsWithOneShardDown(Vertx vertx, VertxTestContext ctx) throws Exception {
    PostgresProxy proxy = PostgresProxy.start(vertx, shard0).toCompletionStage().toCompletableFuture().get();
    InboxStore store = newStore(vertx, config(100, shards(proxy.uri(), shard1).put("postgresShardTimeoutMillis", 300)));
    DeviceKey bob = new DeviceKey("bob", "phone");
    DeviceKey alice = new DeviceKey("alice", "phone");
    DeviceKey dave = new DeviceKey("dave", "laptop");
    store.open()
        .compose(v -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 4), new CursorUpdate("alice", "phone", 9)), 5))
        .compose(v -> proxy.down())
        .compose(v -> store.cursors(List.of(bob, alice, dave)))
        .eventually(() -> proxy.up().compose(v -> store.close()))
        .onComplete(ctx.succeeding(found -> ctx.verify(() -> {
          assertEquals(Map.of(alice, 9L, dave, 0L), found);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a shard that hangs is given inbox.postgresShardTimeoutMillis: its recipients are then answered "
      + "unavailable, later commits skip it at once, and it takes commits again once it answers a probe")
  void hungShard(Vertx vertx, VertxTestContext ctx) throws Exception {
    PostgresProxy proxy = PostgresProxy.start(vertx, shard0).toCompletionStage().toCompletableFuture().get();
    InboxStore store = newStore(vertx, config(100, shards(proxy.uri(), shard1).put("postgresShardTimeoutMillis", 1000)));
    long[] skipped = new long[2];
    store.open()
        .compose(v -> {
          proxy.freeze();
          // Without the bound this would wait for the frozen connection forever (the test's timeout).
          return store.append(List.of(send("dave", null, "bob", "alice")), List.of(), 5);
        })
        .compose(answers -> {
          ctx.verify(() -> {
            assertEquals(ErrorCode.UNAVAILABLE, answers.get(0).results().get(0).error());
            assertTrue(answers.get(0).results().get(1).isStored(), "the other shard's copy waited for the hung one");
          });
          skipped[0] = System.nanoTime();
          return store.append(List.of(send("dave", null, "bob")), List.of(), 6);
        })
        .compose(answers -> {
          skipped[1] = System.nanoTime();
          ctx.verify(() -> {
            assertEquals(ErrorCode.UNAVAILABLE, answers.get(0).results().get(0).error());
            assertTrue(skipped[1] - skipped[0] < 500_000_000L, "a down shard was waited for again");
          });
          return proxy.down().compose(v -> proxy.up());
        })
        .compose(v -> untilStored(vertx, store, send("dave", null, "bob")))
        .compose(stored -> store.read("bob", 0, 10, 7))
        .eventually(store::close)
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertEquals(List.of("hello from dave"), bodies(page), "a copy answered unavailable was stored");
          ctx.completeNow();
        })));
  }

  /** Sends {@code request} again every 100 ms until every recipient's copy is stored; answers the last answer. */
  private static Future<AppendResult> untilStored(Vertx vertx, InboxStore store, AppendRequest request) {
    return store.append(List.of(request), List.of(), 8).compose(answers -> answers.get(0).results().stream()
        .allMatch(RecipientResult::isStored)
        ? Future.succeededFuture(answers.get(0))
        : vertx.timer(100).compose(x -> untilStored(vertx, store, request)));
  }
  private static RoomChange roomChange(RoomChange.Op op, String room, String member, String by) {
    return new RoomChange(op, room, member, by, false, "e-" + op + "-" + room + "-" + member, 1);
  }

  private static List<String> inRoom(InboxPage page, String room) {
    return page.messages().stream().filter(m -> room.equals(m.room())).map(m -> room + "#" + m.roomSeq() + " " + m.body())
        .toList();
  }

  /** Room "lobby" (on shard 0) and room "news" (on shard 1), each of alice and dave (shard 1), bob and carol (shard 0). */
  private static Future<Void> twoRooms(InboxStore store) {
    Future<Void> chain = Future.succeededFuture();
    for (String room : List.of("lobby", "news")) {
      chain = chain.compose(x -> store.changeRoom(roomChange(RoomChange.Op.CREATE, room, null, "alice"), 1)).mapEmpty();
      for (String member : List.of("bob", "carol", "dave")) {
        chain = chain.compose(x -> store.changeRoom(roomChange(RoomChange.Op.ADD, room, member, "alice"), 1)
            .map(r -> {
              if (!r.ok()) {
                throw new IllegalStateException(member + " not added to " + room + ": " + r.error());
              }
              return null;
            }));
      }
    }
    return chain;
  }

  private static Future<List<Long>> count(Vertx vertx, String uri, String sql) {
    Pool admin = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(uri)).using(vertx).build();
    return admin.query(sql).execute()
        .map(rows -> {
          Row row = rows.iterator().next();
          List<Long> values = new java.util.ArrayList<>();
          for (int c = 0; c < row.size(); c++) {
            values.add(row.getLong(c));
          }
          return values;
        })
        .eventually(admin::close);
  }

  @Test
  @DisplayName("a room message to members on both shards stores one body on each shard and a reference per member "
      + "on the member's shard; every member reads it, and the members of both shards are listed in join order")
  void roomBodyOncePerShard(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    String counts = "SELECT (SELECT count(*) FROM room_messages), (SELECT count(*) FROM messages WHERE room = 'lobby'"
        + " AND event IS NULL), (SELECT count(*) FROM messages WHERE room = 'lobby' AND event IS NULL AND body <> '')";
    store.open()
        .compose(v -> twoRooms(store))
        .compose(v -> store.append(List.of(AppendRequest.toRoom("bob", "lobby", "l1", "hi all", 2, "k1", false)),
            List.of(), 2))
        .compose(sent -> {
          ctx.verify(() -> {
            assertEquals(5L, sent.get(0).roomSeq());
            assertEquals(List.of("alice", "bob", "carol", "dave"),
                sent.get(0).results().stream().map(RecipientResult::to).toList());
            assertTrue(sent.get(0).results().stream().allMatch(RecipientResult::isStored), sent.get(0).toString());
          });
          return Future.all(store.read("dave", 0, 10, 3), store.read("carol", 0, 10, 3), store.room("lobby"),
              store.rooms("dave"));
        })
        .compose(read -> {
          ctx.verify(() -> {
            assertEquals(List.of("lobby#4 dave", "lobby#5 hi all"), inRoom(read.resultAt(0), "lobby"));
            assertEquals(List.of("lobby#3 carol", "lobby#4 dave", "lobby#5 hi all"), inRoom(read.resultAt(1), "lobby"));
            assertEquals(List.of("alice", "bob", "carol", "dave"), ((RoomInfo) read.resultAt(2)).members());
            assertEquals(List.of("lobby", "news"), read.resultAt(3));
          });
          return Future.all(count(vertx, shard0, counts), count(vertx, shard1, counts));
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(found -> ctx.verify(() -> {
          // room_messages holds this one body per shard; each shard holds its two members' references.
          assertEquals(List.of(1L, 2L, 0L), found.resultAt(0));
          assertEquals(List.of(1L, 2L, 0L), found.resultAt(1));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a read receipt sent to a room on one shard is stored for the other members of both shards, no room "
      + "row, once per key: a retry stores no second copy on either shard")
  void roomReadAcrossShards(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    String read = Senders.receipt("bob", "lobby");
    AppendRequest readByBob = AppendRequest.toRoom(read, "lobby", "rd-1", "l1", 2, "l1", false);
    store.open()
        .compose(v -> twoRooms(store))
        .compose(v -> store.append(List.of(readByBob), List.of(), 2))
        .compose(first -> store.append(List.of(readByBob), List.of(), 3).map(second -> {
          ctx.verify(() -> {
            assertEquals(4L, first.get(0).roomSeq());
            assertEquals(List.of("alice", "carol", "dave"), first.get(0).results().stream().map(RecipientResult::to).toList());
            assertTrue(first.get(0).results().stream().allMatch(RecipientResult::isStored), first.get(0).toString());
            assertTrue(second.get(0).duplicate());
          });
          return null;
        }))
        .compose(v -> Future.all(store.read("alice", 0, 20, 4), store.read("carol", 0, 20, 4), store.read("dave", 0, 20, 4),
            store.read("bob", 0, 20, 4)))
        .eventually(store::close)
        .onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
          for (int i = 0; i < 3; i++) {
            InboxPage page = pages.resultAt(i);
            List<StoredMessage> receipts = page.messages().stream().filter(m -> read.equals(m.from())).toList();
            assertEquals(1, receipts.size(), page.messages().toString());
            assertEquals("l1", receipts.get(0).body());
            assertEquals(null, receipts.get(0).room());
          }
          InboxPage bob = pages.resultAt(3);
          assertTrue(bob.messages().stream().noneMatch(m -> read.equals(m.from())), bob.messages().toString());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("with one shard down, a room send whose room is on it fails as unavailable, a room send whose room is "
      + "on the other shard reaches that shard's members; once it is back, a keyed retry stores only the missing copies")
  void roomSendWithShardDown(Vertx vertx, VertxTestContext ctx) throws Exception {
    PostgresProxy proxy = PostgresProxy.start(vertx, shard0).toCompletionStage().toCompletableFuture().get();
    InboxStore store = newStore(vertx, config(100, shards(proxy.uri(), shard1).put("postgresShardTimeoutMillis", 300)));
    AppendRequest keyed = AppendRequest.toRoom("alice", "news", "n1", "news!", 5, "k", false);
    store.open()
        .compose(v -> twoRooms(store))
        .compose(v -> proxy.down())
        .compose(v -> store.append(List.of(AppendRequest.toRoom("dave", "lobby", "l1", "lobby?", 5, null, false), keyed),
            List.of(), 5))
        .compose(answers -> {
          ctx.verify(() -> {
            assertEquals(List.of(RecipientResult.refused("lobby", ErrorCode.UNAVAILABLE)), answers.get(0).results());
            assertEquals(5L, answers.get(1).roomSeq());
            assertEquals(List.of(true, false, false, true),
                answers.get(1).results().stream().map(RecipientResult::isStored).toList());
          });
          return proxy.up();
        })
        .compose(v -> retryUntilShardsAnswer(vertx, store, keyed))
        .compose(retry -> {
          ctx.verify(() -> {
            assertTrue(retry.duplicate());
            assertEquals(5L, retry.roomSeq());
          });
          return Future.all(store.read("bob", 0, 10, 7), store.read("dave", 0, 10, 7));
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
          assertEquals("news!", ((InboxPage) pages.resultAt(0)).messages().get(6).body());
          assertEquals(7, ((InboxPage) pages.resultAt(0)).messages().size(), "bob's copy stored twice");
          assertEquals(List.of("news#4", "news#5"), ((InboxPage) pages.resultAt(1)).messages().stream()
              .filter(m -> "news".equals(m.room())).map(m -> m.room() + "#" + m.roomSeq()).toList(),
              "dave's copy stored twice");
          ctx.completeNow();
        })));
  }

  /** A keyed room send retried, as a client does, until the shard that was down has answered a probe and stored bob's copy. */
  private static Future<AppendResult> retryUntilShardsAnswer(Vertx vertx, InboxStore store, AppendRequest request) {
    return store.append(List.of(request), List.of(), 8).compose(answers -> store.read("bob", 0, 10, 8)
        .transform(page -> page.succeeded() && page.result().messages().stream().anyMatch(m -> "news!".equals(m.body()))
            ? Future.succeededFuture(answers.get(0))
            : vertx.timer(100).compose(x -> retryUntilShardsAnswer(vertx, store, request))));
  }
}
