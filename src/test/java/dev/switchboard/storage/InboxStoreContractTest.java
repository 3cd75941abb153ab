package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomChangeResult;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.bus.SystemInboxes;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.config.InboxConfig;
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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every engine of {@link InboxStore} must do, on a real database, with the clock given
 * explicitly. One subclass per engine supplies its settings and its store.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
abstract class InboxStoreContractTest {

  static final long HOUR = 3_600_000;

  @TempDir
  Path dataDir;

  /** The engine's keys of the {@code inbox} section (engine, where its data lives). */
  abstract JsonObject engineSettings();

  abstract InboxStore newStore(Vertx vertx, InboxConfig config);

  InboxConfig config(int cap) throws Exception {
    return config(cap, new JsonObject());
  }

  /** The test settings with {@code inbox} keys of a test's own on top. */
  InboxConfig config(int cap, JsonObject inboxOverrides) throws Exception {
    return config(cap, inboxOverrides, new JsonObject());
  }

  /** The test settings with {@code inbox} and {@code limits} keys of a test's own on top. */
  InboxConfig config(int cap, JsonObject inboxOverrides, JsonObject limitsOverrides) throws Exception {
    JsonObject defaults = new JsonObject(java.nio.file.Files.readString(Path.of("conf/config.json")));
    JsonObject inbox = new JsonObject().put("retentionSeconds", 3600).put("maxMessagesPerUser", cap)
        .put("idempotencyWindowSeconds", 60).mergeIn(engineSettings()).mergeIn(inboxOverrides);
    JsonObject json = defaults.mergeIn(TestServer.config(dataDir, new JsonObject().put("inbox", inbox)
        .put("limits", limitsOverrides)), true);
    return InboxConfig.fromJson(json);
  }

  private static AppendRequest message(long ts, String key, String body) {
    return new AppendRequest("alice", body, ts, key, List.of(new AppendRequest.Recipient("bob", "m-" + body)));
  }

  @Test
  @DisplayName("purge removes messages past retention, frees their place under the cap, and keeps seqs rising")
  void purgeAndCap(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(2));
    store.open()
        .compose(v -> store.append(List.of(message(0, null, "old1"), message(0, null, "old2"), message(0, null, "refused")), List.of(), 0))
        .compose(results -> {
          ctx.verify(() -> assertFalse(results.get(2).results().get(0).isStored()));
          return store.purge(HOUR + 1);
        })
        .compose(removed -> {
          ctx.verify(() -> assertEquals(2L, removed));
          return store.append(List.of(message(HOUR + 2, null, "fresh")), List.of(), HOUR + 2);
        })
        .compose(results -> {
          ctx.verify(() -> assertEquals(3L, results.get(0).results().get(0).seq()));
          return store.read("bob", 0, 10, HOUR + 3);
        })
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertEquals(3L, page.head());
          assertEquals(1, page.messages().size());
          assertEquals("fresh", page.messages().get(0).body());
          store.close();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("idempotency keys replay within the window and are forgotten after it")
  void idempotencyWindow(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    store.open()
        .compose(v -> store.append(List.of(message(0, "k", "first")), List.of(), 0))
        .compose(first -> store.append(List.of(message(1_000, "k", "first"), message(1_000, "k", "other")), List.of(), 1_000))
        .compose(replay -> {
          ctx.verify(() -> {
            assertTrue(replay.get(0).duplicate());
            assertEquals(1L, replay.get(0).results().get(0).seq());
            assertEquals(dev.switchboard.protocol.ErrorCode.ID_REUSED, replay.get(1).results().get(0).error());
          });
          return store.append(List.of(message(61_000, "k", "later")), List.of(), 61_000);
        })
        .onComplete(ctx.succeeding(later -> ctx.verify(() -> {
          assertFalse(later.get(0).duplicate());
          assertEquals(2L, later.get(0).results().get(0).seq());
          store.close();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a stored key reused for a body with the same String hash (\"Aa\" / \"BB\") is id_reused; the same recipients in another order are a retry")
  void fingerprintsStoredAndCompared(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    List<AppendRequest.Recipient> bobCarol = List.of(new AppendRequest.Recipient("bob", "m-1"),
        new AppendRequest.Recipient("carol", "m-2"));
    List<AppendRequest.Recipient> carolBob = List.of(new AppendRequest.Recipient("carol", "m-3"),
        new AppendRequest.Recipient("bob", "m-4"));
    store.open()
        .compose(v -> store.append(List.of(new AppendRequest("alice", "Aa", 1_000, "k1", bobCarol),
            new AppendRequest("alice", "hi", 1_000, "k2", bobCarol)), List.of(), 1_000))
        // A later commit, so the answers come from what the store kept, not from the same batch.
        .compose(v -> store.append(List.of(new AppendRequest("alice", "BB", 2_000, "k1", bobCarol),
            new AppendRequest("alice", "hi", 2_000, "k2", carolBob)), List.of(), 2_000))
        .eventually(store::close)
        .onComplete(ctx.succeeding(results -> ctx.verify(() -> {
          assertEquals(dev.switchboard.protocol.ErrorCode.ID_REUSED, results.get(0).results().get(0).error());
          assertTrue(results.get(1).duplicate());
          assertEquals(List.of("m-1", "m-2"), results.get(1).results().stream().map(r -> r.msgId()).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("an idempotency key stored before the store is reopened still replays within the window")
  void idempotencyAcrossReopen(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> store.append(List.of(message(5_000, "k1", "first"), message(5_000, "k2", "second")), List.of(), 5_000))
        .compose(v -> store.close())
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open()
              .compose(x -> reopened.append(List.of(message(9_000, "k2", "second"), message(9_000, "k3", "third")),
                  List.of(), 9_000))
              .eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(results -> ctx.verify(() -> {
          assertTrue(results.get(0).duplicate());
          assertEquals(2L, results.get(0).results().get(0).seq());
          assertFalse(results.get(1).duplicate());
          assertEquals(3L, results.get(1).results().get(0).seq());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("cursors only move forward and survive reopening the store")
  void cursors(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 7)), 0))
        .compose(v -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 5)), 0))
        .compose(v -> store.close())
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open().compose(x -> reopened.cursor("bob", "phone")).eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(cursor -> ctx.verify(() -> {
          assertEquals(7L, cursor);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the cursors of many devices are read together, each as stored, 0 for a device never seen, also after reopening")
  void severalCursors(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    InboxStore store = newStore(vertx, config);
    // More devices than one SQL statement takes parameters for, of users on either shard of the sharded engine.
    List<DeviceKey> devices = new ArrayList<>();
    List<CursorUpdate> moves = new ArrayList<>();
    Map<DeviceKey, Long> expected = new HashMap<>();
    for (int i = 0; i < 600; i++) {
      DeviceKey key = new DeviceKey(SystemInboxes.mutes(i % 2 == 0 ? "bob" : "alice"), "d" + i);
      devices.add(key);
      expected.put(key, i % 3 == 0 ? 0L : i + 1L);
      if (i % 3 != 0) {
        moves.add(new CursorUpdate(key.user(), key.device(), i + 1L));
      }
    }
    store.open()
        .compose(v -> store.append(List.of(), moves, 0))
        .compose(v -> store.cursors(devices))
        .compose(found -> {
          ctx.verify(() -> assertEquals(expected, found));
          return store.close();
        })
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open().compose(x -> reopened.cursors(devices.subList(0, 4))).eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(found -> ctx.verify(() -> {
          assertEquals(Map.of(devices.get(0), 0L, devices.get(1), 2L, devices.get(2), 3L, devices.get(3), 0L), found);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("reading at or past the head gives the head and no messages, also after reopening")
  void readAtHead(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> store.append(List.of(message(0, null, "a"), message(0, null, "b")), List.of(), 0))
        .compose(v -> store.read("bob", 2, 10, 1))
        .compose(atHead -> {
          ctx.verify(() -> {
            assertEquals(2L, atHead.head());
            assertTrue(atHead.messages().isEmpty());
          });
          return store.read("bob", 1, 10, 1);
        })
        .compose(belowHead -> {
          ctx.verify(() -> assertEquals(List.of("b"), belowHead.messages().stream().map(StoredMessage::body).toList()));
          return store.close();
        })
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open().compose(x -> reopened.read("bob", 5, 10, 1)).eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(pastHead -> ctx.verify(() -> {
          assertEquals(2L, pastHead.head());
          assertTrue(pastHead.messages().isEmpty());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("an inbox never written reads as head 0 with no messages, and a device never seen has cursor 0")
  void emptyInbox(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    store.open()
        .compose(v -> store.read("nobody", 0, 10, 0))
        .compose(page -> {
          ctx.verify(() -> {
            assertEquals(0L, page.head());
            assertTrue(page.messages().isEmpty());
          });
          return store.cursor("nobody", "phone");
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(cursor -> ctx.verify(() -> {
          assertEquals(0L, cursor);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("pages read together are each the page read alone: after the seq given or the device's stored cursor, "
      + "up to its own limit, with its inbox's head; an inbox never written reads empty")
  void pagesReadTogether(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    List<AppendRequest> batch = List.of(message(1, null, "b1"), message(2, null, "b2"), message(3, null, "b3"),
        new AppendRequest("alice", "to carol", 4, null, List.of(new AppendRequest.Recipient("carol", "c1"))));
    List<ReadRequest> reads = List.of(
        new ReadRequest("bob", "phone", null, 10), // after its cursor, 1
        new ReadRequest("bob", "laptop", null, 10), // no cursor: from the start
        new ReadRequest("bob", "phone", 1L, 1), // after a seq given, one message
        new ReadRequest("carol", "phone", null, 0), // only the cursor and head (as a mute query reads)
        new ReadRequest("dave", "phone", null, 10), // a room member: the body is the room's
        new ReadRequest("nobody", "phone", null, 10),
        new ReadRequest("carol", "tablet", null, 10)); // after its cursor, at the head
    List<CursorUpdate> cursors = List.of(new CursorUpdate("bob", "phone", 1), new CursorUpdate("carol", "tablet", 1));
    store.open()
        .compose(v -> store.append(batch, cursors, 10))
        .compose(v -> changes(store, create("r", "alice", 11), add("r", "dave", "alice", 12)))
        .compose(v -> store.append(List.of(toRoom("alice", "r", "to the room", null, 13)), List.of(), 13))
        .compose(v -> Future.all(store.readPages(reads, 20)))
        .eventually(store::close)
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<InboxPage> pages = all.list();
          assertEquals(new InboxPage(1, 3, List.of(new StoredMessage("m-b2", 2, "alice", "bob", "b2", 2),
              new StoredMessage("m-b3", 3, "alice", "bob", "b3", 3))), pages.get(0));
          assertEquals(List.of(1L, 2L, 3L), pages.get(1).messages().stream().map(StoredMessage::seq).toList());
          assertEquals(0L, pages.get(1).after());
          assertEquals(new InboxPage(1, 3, List.of(new StoredMessage("m-b2", 2, "alice", "bob", "b2", 2))), pages.get(2));
          assertEquals(new InboxPage(0, 1, List.of()), pages.get(3));
          assertEquals(List.of("r#2 added dave", "r#3 alice: to the room"),
              pages.get(4).messages().stream().map(InboxStoreContractTest::describe).toList());
          assertEquals(new InboxPage(0, 0, List.of()), pages.get(5));
          assertEquals(new InboxPage(1, 1, List.of()), pages.get(6));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("each recipient of a send gets its own next seq, and a page lists what follows 'after' in seq order up to the limit")
  void seqsPerRecipientAndPaging(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    List<AppendRequest> batch = List.of(
        new AppendRequest("alice", "to both", 1, null, List.of(
            new AppendRequest.Recipient("bob", "m1"), new AppendRequest.Recipient("carol", "m2"))),
        message(2, null, "b2"), message(3, null, "b3"), message(4, null, "b4"));
    store.open()
        .compose(v -> store.append(batch, List.of(), 10))
        .compose(results -> {
          ctx.verify(() -> {
            assertEquals(1L, results.get(0).results().get(0).seq());
            assertEquals(1L, results.get(0).results().get(1).seq());
            assertEquals(4L, results.get(3).results().get(0).seq());
          });
          return store.read("bob", 1, 2, 10);
        })
        .compose(page -> {
          ctx.verify(() -> {
            assertEquals(4L, page.head());
            assertEquals(1L, page.after());
            assertEquals(List.of(2L, 3L), page.messages().stream().map(m -> m.seq()).toList());
            StoredMessage first = page.messages().get(0);
            assertEquals(new StoredMessage("m-b2", 2, "alice", "bob", "b2", 2), first);
          });
          return store.read("carol", 0, 10, 10);
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertEquals(1L, page.head());
          assertEquals(List.of("to both"), page.messages().stream().map(m -> m.body()).toList());
          ctx.completeNow();
        })));
  }
  // ---- rooms ----

  private static RoomChange create(String room, String by, long ts) {
    return new RoomChange(RoomChange.Op.CREATE, room, null, by, false, "e-" + room + "-" + by + "-" + ts, ts);
  }

  private static RoomChange add(String room, String member, String by, long ts) {
    return new RoomChange(RoomChange.Op.ADD, room, member, by, false, "e-add-" + member + "-" + ts, ts);
  }

  private static RoomChange remove(String room, String member, String by, long ts) {
    return new RoomChange(RoomChange.Op.REMOVE, room, member, by, false, "e-rm-" + member + "-" + ts, ts);
  }

  private static AppendRequest toRoom(String from, String room, String body, String key, long ts) {
    return AppendRequest.toRoom(from, room, "r-" + body, body, ts, key, false);
  }

  /** Applies the changes one after another; fails on the first refused. */
  private static Future<RoomChangeResult> changes(InboxStore store, RoomChange... changes) {
    Future<RoomChangeResult> chain = Future.succeededFuture();
    for (RoomChange change : changes) {
      chain = chain.compose(x -> store.changeRoom(change, change.ts())).compose(r -> r.ok()
          ? Future.succeededFuture(r) : Future.failedFuture(change + " refused: " + r.error()));
    }
    return chain;
  }

  private static String describe(StoredMessage m) {
    return m.room() + "#" + m.roomSeq() + " " + (m.isRoomEvent() ? m.event() + " " + m.body() : m.from() + ": " + m.body());
  }

  @Test
  @DisplayName("a room message reaches every member under the member's own seq, with one roomSeq and msgId; events and messages read back in roomSeq order")
  void roomMessageReachesMembers(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    store.open()
        // bob already has a direct message: his copies continue his own seqs.
        .compose(v -> store.append(List.of(message(1, null, "direct")), List.of(), 1))
        .compose(v -> changes(store, create("r", "alice", 2), add("r", "bob", "alice", 3), add("r", "carol", "alice", 4)))
        .compose(added -> {
          ctx.verify(() -> {
            assertEquals(3L, added.roomSeq());
            assertEquals(List.of("alice", "bob", "carol"), added.events().stream().map(StoredMessage::to).toList());
            assertTrue(added.events().stream().allMatch(e -> "added".equals(e.event()) && "carol".equals(e.body())));
          });
          return store.append(List.of(toRoom("bob", "r", "hello", null, 5)), List.of(), 5);
        })
        .compose(results -> {
          ctx.verify(() -> {
            AppendResult result = results.get(0);
            assertEquals("r", result.room());
            assertEquals(4L, result.roomSeq());
            assertEquals(List.of("alice", "bob", "carol"), result.results().stream().map(RecipientResult::to).toList());
            assertTrue(result.results().stream().allMatch(r -> "r-hello".equals(r.msgId())));
            // alice: created, added bob, added carol, then the message; bob: his direct message, two events, the message.
            assertEquals(List.of(4L, 4L, 2L), result.results().stream().map(RecipientResult::seq).toList());
          });
          return store.read("alice", 0, 10, 6);
        })
        .compose(alice -> {
          ctx.verify(() -> assertEquals(List.of("r#1 created alice", "r#2 added bob", "r#3 added carol", "r#4 bob: hello"),
              alice.messages().stream().map(InboxStoreContractTest::describe).toList()));
          return store.read("bob", 0, 10, 6);
        })
        .compose(bob -> {
          ctx.verify(() -> {
            assertEquals(List.of("null#0 alice: direct", "r#2 added bob", "r#3 added carol", "r#4 bob: hello"),
                bob.messages().stream().map(InboxStoreContractTest::describe).toList());
            assertEquals(new StoredMessage("r-hello", 4, "bob", "bob", "hello", 5, "r", 4, null), bob.messages().get(3));
          });
          return store.read("carol", 0, 10, 6);
        })
        .compose(carol -> {
          // carol was added after the room's first events: she sees nothing older than her own.
          ctx.verify(() -> assertEquals(List.of("r#3 added carol", "r#4 bob: hello"),
              carol.messages().stream().map(InboxStoreContractTest::describe).toList()));
          return store.room("r");
        })
        .compose(info -> {
          ctx.verify(() -> assertEquals(new RoomInfo("r", "alice", 4, List.of("alice", "bob", "carol")), info));
          return store.rooms("bob");
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(rooms -> ctx.verify(() -> {
          assertEquals(List.of("r"), rooms);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the owner adds and removes, a member only leaves, a non-member cannot send; a back end may do all of it")
  void roomPermissions(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    List<ErrorCode> refusals = new ArrayList<>();
    store.open()
        .compose(v -> changes(store, create("r", "alice", 1), add("r", "bob", "alice", 2), add("r", "carol", "alice", 3)))
        .compose(v -> store.changeRoom(add("r", "dave", "bob", 4), 4)).map(r -> refusals.add(r.error()))
        .compose(v -> store.changeRoom(add("r", "dave", "dave", 4), 4)).map(r -> refusals.add(r.error()))
        .compose(v -> store.changeRoom(remove("r", "carol", "bob", 4), 4)).map(r -> refusals.add(r.error()))
        .compose(v -> store.changeRoom(add("nowhere", "dave", "alice", 4), 4)).map(r -> refusals.add(r.error()))
        .compose(v -> store.changeRoom(create("r", "dave", 4), 4)).map(r -> refusals.add(r.error()))
        .compose(v -> store.changeRoom(remove("r", "dave", "alice", 4), 4)).map(r -> refusals.add(r.error()))
        .compose(v -> store.append(List.of(toRoom("dave", "r", "let me in", null, 4), toRoom("alice", "nowhere", "x", null, 4)),
            List.of(), 4))
        .compose(sends -> {
          sends.forEach(r -> refusals.add(r.results().get(0).error()));
          ctx.verify(() -> assertEquals(List.of(ErrorCode.NOT_OWNER, ErrorCode.NOT_A_MEMBER, ErrorCode.NOT_OWNER,
              ErrorCode.ROOM_NOT_FOUND, ErrorCode.ROOM_EXISTS, ErrorCode.NOT_A_MEMBER, ErrorCode.NOT_A_MEMBER,
              ErrorCode.ROOM_NOT_FOUND), refusals));
          // carol leaves, alice removes bob, a back end adds dave and sends as the service.
          return changes(store, remove("r", "carol", "carol", 5), remove("r", "bob", "alice", 6),
              new RoomChange(RoomChange.Op.ADD, "r", "dave", "backend", true, "e-svc", 7));
        })
        .compose(v -> store.append(List.of(AppendRequest.toRoom("backend", "r", "s-1", "from the service", 8, null, true),
            toRoom("bob", "r", "still here?", null, 8)), List.of(), 8))
        .compose(sends -> {
          ctx.verify(() -> {
            assertEquals(List.of("alice", "dave"), sends.get(0).results().stream().map(RecipientResult::to).toList());
            assertEquals(ErrorCode.NOT_A_MEMBER, sends.get(1).results().get(0).error());
          });
          return store.read("bob", 0, 10, 9);
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(bob -> ctx.verify(() -> {
          // bob got carol's leaving and his own removal, and nothing after it.
          assertEquals(List.of("r#2 added bob", "r#3 added carol", "r#4 removed carol", "r#5 removed bob"),
              bob.messages().stream().map(InboxStoreContractTest::describe).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("limits.maxRoomMembers refuses one more member with room_full, limits.maxRoomsPerUser one more room with too_many_rooms")
  void roomLimits(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100, new JsonObject(),
        new JsonObject().put("maxRoomMembers", 2).put("maxRoomsPerUser", 2)));
    List<ErrorCode> refusals = new ArrayList<>();
    store.open()
        .compose(v -> changes(store, create("r1", "alice", 1), add("r1", "bob", "alice", 2), create("r2", "alice", 3)))
        .compose(v -> store.changeRoom(add("r1", "carol", "alice", 4), 4)).map(r -> refusals.add(r.error()))
        .compose(v -> store.changeRoom(create("r3", "alice", 4), 4)).map(r -> refusals.add(r.error()))
        .compose(v -> changes(store, create("r4", "bob", 5)))
        .compose(v -> store.changeRoom(add("r2", "bob", "alice", 6), 6)).map(r -> refusals.add(r.error()))
        .eventually(store::close)
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertEquals(List.of(ErrorCode.ROOM_FULL, ErrorCode.TOO_MANY_ROOMS, ErrorCode.TOO_MANY_ROOMS), refusals);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("above limits.roomEventMembers members a change's event is stored only for the member added or removed and the actor: "
      + "an add stores exactly 2 event copies, the other members none")
  void roomEventsBoundedAboveLimit(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100, new JsonObject(), new JsonObject().put("roomEventMembers", 3)));
    List<RoomChangeResult> results = new ArrayList<>();
    store.open()
        .compose(v -> changes(store, create("r", "alice", 1), add("r", "bob", "alice", 2)))
        .compose(v -> store.changeRoom(add("r", "carol", "alice", 3), 3)).map(results::add)
        .compose(v -> store.changeRoom(add("r", "dave", "alice", 4), 4)).map(results::add)
        .compose(v -> store.changeRoom(remove("r", "carol", "alice", 5), 5)).map(results::add)
        .compose(v -> store.read("bob", 0, 10, 6))
        .eventually(store::close)
        .onComplete(ctx.succeeding(bob -> ctx.verify(() -> {
          // Three members after carol's add: still every member.
          assertEquals(List.of("alice", "bob", "carol"), results.get(0).events().stream().map(StoredMessage::to).toList());
          // Four after dave's, four before carol's removal: the actor and the member only.
          assertEquals(List.of("alice", "dave"), results.get(1).events().stream().map(StoredMessage::to).toList());
          assertEquals(List.of("alice", "carol"), results.get(2).events().stream().map(StoredMessage::to).toList());
          assertEquals(List.of("r#2 added bob", "r#3 added carol"),
              bob.messages().stream().map(InboxStoreContractTest::describe).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a room message retried with the same id is answered as before and stored once; the id with another body is id_reused")
  void roomIdempotency(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    store.open()
        .compose(v -> changes(store, create("r", "alice", 1), add("r", "bob", "alice", 2)))
        .compose(v -> store.append(List.of(toRoom("alice", "r", "once", "k", 3)), List.of(), 3))
        .compose(v -> store.append(List.of(toRoom("alice", "r", "once", "k", 4), toRoom("alice", "r", "twice", "k", 4)),
            List.of(), 4))
        .compose(retry -> {
          ctx.verify(() -> {
            assertTrue(retry.get(0).duplicate());
            assertEquals("r", retry.get(0).room());
            assertEquals(3L, retry.get(0).roomSeq());
            assertEquals("r-once", retry.get(0).results().get(0).msgId());
            assertEquals(ErrorCode.ID_REUSED, retry.get(1).results().get(0).error());
          });
          return store.read("bob", 0, 10, 5);
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(bob -> ctx.verify(() -> {
          assertEquals(List.of("r#2 added bob", "r#3 alice: once"),
              bob.messages().stream().map(InboxStoreContractTest::describe).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("rooms, members and roomSeqs survive reopening the store; the next message takes the next roomSeq")
  void roomsAcrossReopen(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> changes(store, create("r", "alice", 1), add("r", "bob", "alice", 2), add("r", "carol", "alice", 3),
            remove("r", "carol", "carol", 4)))
        .compose(v -> store.append(List.of(toRoom("bob", "r", "before", "k", 5)), List.of(), 5))
        .compose(v -> store.close())
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open()
              .compose(x -> reopened.append(List.of(toRoom("bob", "r", "before", "k", 6), toRoom("alice", "r", "after", null, 6)),
                  List.of(), 6))
              .compose(sends -> {
                ctx.verify(() -> {
                  assertTrue(sends.get(0).duplicate());
                  assertEquals(5L, sends.get(0).roomSeq());
                  assertEquals(6L, sends.get(1).roomSeq());
                  assertEquals(List.of("alice", "bob"), sends.get(1).results().stream().map(RecipientResult::to).toList());
                });
                return reopened.room("r");
              })
              .compose(info -> {
                ctx.verify(() -> assertEquals(new RoomInfo("r", "alice", 6, List.of("alice", "bob")), info));
                return reopened.rooms("carol");
              })
              .eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(carolsRooms -> ctx.verify(() -> {
          assertEquals(List.of(), carolsRooms);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a room message asking for delivered receipts is stored up to limits.roomReceiptMembers members and refused "
      + "room_too_big above; a receipt about a room is stored once per key and reads back with its room after reopening")
  void roomReceipts(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100, new JsonObject(), new JsonObject().put("roomReceiptMembers", 2));
    InboxStore store = newStore(vertx, config);
    String delivered = Senders.delivered("bob", "r");
    String read = Senders.receipt("bob", "r");
    store.open()
        .compose(v -> changes(store, create("r", "alice", 1), add("r", "bob", "alice", 2)))
        .compose(v -> store.append(List.of(AppendRequest.toRoom("alice", "r", "r-ask.r", "ask", 3, "k1", false)), List.of(), 3))
        .compose(sent -> {
          ctx.verify(() -> {
            assertEquals(3L, sent.get(0).roomSeq());
            assertTrue(sent.get(0).results().stream().allMatch(r -> r.isStored() && "r-ask.r".equals(r.msgId())));
          });
          // bob's receipts for alice, each sent twice (two devices): stored once per key.
          AppendRequest receipt = new AppendRequest(delivered, "r-ask.r", 4, "r-ask.r",
              List.of(new AppendRequest.Recipient("alice", "d-1")));
          AppendRequest readReceipt = new AppendRequest(read, "r-ask.r", 4, "r-ask.r",
              List.of(new AppendRequest.Recipient("alice", "d-2")));
          return store.append(List.of(receipt, readReceipt), List.of(), 4)
              .compose(first -> store.append(List.of(receipt, readReceipt), List.of(), 5).map(second -> {
                ctx.verify(() -> {
                  assertFalse(first.get(0).duplicate());
                  assertTrue(second.get(0).duplicate());
                  assertTrue(second.get(1).duplicate());
                });
                return null;
              }));
        })
        .compose(v -> changes(store, add("r", "carol", "alice", 6)))
        .compose(v -> store.append(List.of(AppendRequest.toRoom("alice", "r", "r-big.r", "too many", 7, "k2", false),
            toRoom("alice", "r", "plain", "k3", 7)), List.of(), 7))
        .compose(sent -> {
          ctx.verify(() -> {
            assertEquals(ErrorCode.ROOM_TOO_BIG, sent.get(0).results().get(0).error());
            assertEquals(0L, sent.get(0).roomSeq());
            assertEquals(List.of("alice", "bob", "carol"), sent.get(1).results().stream().map(RecipientResult::to).toList());
          });
          return store.close();
        })
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open().compose(x -> reopened.read("alice", 0, 20, 8)).eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(alice -> ctx.verify(() -> {
          List<StoredMessage> receipts = alice.messages().stream()
              .filter(m -> Senders.isDelivered(m.from()) || Senders.isReceipt(m.from())).toList();
          assertEquals(List.of(new StoredMessage("d-1", 4, delivered, "alice", "r-ask.r", 4),
              new StoredMessage("d-2", 5, read, "alice", "r-ask.r", 4)), receipts);
          assertEquals(List.of("r", "r"), receipts.stream().map(m -> Senders.receiptRoom(m.from())).toList());
          assertEquals(List.of("bob", "bob"), receipts.stream().map(m -> Senders.shown(m.from())).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a read receipt sent to a room reaches the other members as the commit finds them: none removed before it, "
      + "not the reader; it takes no roomSeq, is refused room_too_big above limits.roomReceiptMembers and not_a_member once the reader left")
  void roomReadReachesMembersAtItsCommit(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100, new JsonObject(), new JsonObject().put("roomReceiptMembers", 2));
    InboxStore store = newStore(vertx, config);
    String read = Senders.receipt("bob", "r");
    AppendRequest readByBob = AppendRequest.toRoom(read, "r", "rd-1", "r-hello", 5, "r-hello", false);
    store.open()
        .compose(v -> changes(store, create("r", "alice", 1), add("r", "bob", "alice", 2), add("r", "carol", "alice", 3)))
        .compose(v -> store.append(List.of(readByBob), List.of(), 4))
        .compose(tooBig -> {
          ctx.verify(() -> {
            assertEquals(ErrorCode.ROOM_TOO_BIG, tooBig.get(0).results().get(0).error());
            assertEquals(0L, tooBig.get(0).roomSeq());
          });
          return changes(store, remove("r", "carol", "alice", 4));
        })
        .compose(v -> store.append(List.of(readByBob), List.of(), 5))
        .compose(first -> store.append(List.of(readByBob), List.of(), 6).map(second -> {
          ctx.verify(() -> {
            assertFalse(first.get(0).duplicate());
            assertEquals(4L, first.get(0).roomSeq());
            assertEquals(List.of(RecipientResult.stored("alice", "rd-1", 5, 5)), first.get(0).results());
            assertTrue(second.get(0).duplicate());
          });
          return null;
        }))
        .compose(v -> changes(store, remove("r", "bob", "bob", 7)))
        .compose(v -> store.append(List.of(AppendRequest.toRoom(read, "r", "rd-2", "r-later", 8, "r-later", false)),
            List.of(), 8))
        .compose(left -> {
          ctx.verify(() -> assertEquals(ErrorCode.NOT_A_MEMBER, left.get(0).results().get(0).error()));
          return store.room("r");
        })
        .compose(info -> {
          ctx.verify(() -> assertEquals(new RoomInfo("r", "alice", 5, List.of("alice")), info));
          return store.read("carol", 0, 20, 9);
        })
        .compose(carol -> {
          ctx.verify(() -> assertTrue(carol.messages().stream().noneMatch(m -> Senders.isReceipt(m.from())),
              carol.messages().toString()));
          return store.read("bob", 0, 20, 9);
        })
        .compose(bob -> {
          ctx.verify(() -> assertTrue(bob.messages().stream().noneMatch(m -> Senders.isReceipt(m.from())),
              bob.messages().toString()));
          return store.read("alice", 0, 20, 9);
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(alice -> ctx.verify(() -> {
          assertEquals(List.of(new StoredMessage("rd-1", 5, read, "alice", "r-hello", 5)),
              alice.messages().stream().filter(m -> Senders.isReceipt(m.from())).toList());
          ctx.completeNow();
        })));
  }

  private static AppendRequest deliveredInRoom(String by, String room, String sender, String msgId, String copyId, long ts) {
    return new AppendRequest(Senders.delivered(by, room), msgId, ts, msgId, List.of(new AppendRequest.Recipient(sender, copyId)),
        room, false);
  }

  @Test
  @DisplayName("a delivered receipt sent to a room reaches the message's sender only while the sender is a member, "
      + "whether or not the member who acked still is; it takes no roomSeq")
  void roomDeliveredOnlyToAMember(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    store.open()
        .compose(v -> changes(store, create("r", "alice", 1), add("r", "bob", "alice", 2), add("r", "carol", "alice", 3)))
        .compose(v -> store.append(List.of(deliveredInRoom("bob", "r", "alice", "m-1.r", "d-1", 4)), List.of(), 4))
        .compose(first -> {
          ctx.verify(() -> {
            assertEquals(3L, first.get(0).roomSeq());
            assertTrue(first.get(0).results().get(0).isStored(), first.toString());
          });
          return changes(store, remove("r", "bob", "alice", 5));
        })
        .compose(v -> store.append(List.of(deliveredInRoom("bob", "r", "alice", "m-2.r", "d-2", 6)), List.of(), 6))
        .compose(afterBobLeft -> {
          ctx.verify(() -> assertTrue(afterBobLeft.get(0).results().get(0).isStored(), afterBobLeft.toString()));
          return changes(store, remove("r", "alice", "alice", 7));
        })
        .compose(v -> store.append(List.of(deliveredInRoom("carol", "r", "alice", "m-3.r", "d-3", 8)), List.of(), 8))
        .compose(afterAliceLeft -> {
          ctx.verify(() -> assertEquals(ErrorCode.NOT_A_MEMBER, afterAliceLeft.get(0).results().get(0).error()));
          return store.room("r");
        })
        .compose(info -> {
          ctx.verify(() -> assertEquals(5L, info.roomSeq()));
          return store.read("alice", 0, 20, 9);
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(alice -> ctx.verify(() -> {
          List<StoredMessage> receipts = alice.messages().stream().filter(m -> Senders.isDelivered(m.from())).toList();
          assertEquals(List.of("d-1 m-1.r", "d-2 m-2.r"), receipts.stream().map(m -> m.msgId() + " " + m.body()).toList());
          assertTrue(receipts.stream().allMatch(m -> m.room() == null && "r".equals(Senders.receiptRoom(m.from()))));
          ctx.completeNow();
        })));
  }
}
