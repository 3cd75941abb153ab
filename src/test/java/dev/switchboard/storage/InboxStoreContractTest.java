package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
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

import java.nio.file.Path;
import java.util.List;
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
    JsonObject defaults = new JsonObject(java.nio.file.Files.readString(Path.of("conf/config.json")));
    JsonObject inbox = new JsonObject().put("retentionSeconds", 3600).put("maxMessagesPerUser", cap)
        .put("idempotencyWindowSeconds", 60).mergeIn(engineSettings()).mergeIn(inboxOverrides);
    JsonObject json = defaults.mergeIn(TestServer.config(dataDir, new JsonObject().put("inbox", inbox)), true);
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
}
