package dev.switchboard.gateway;

import dev.switchboard.bus.Addresses;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cursors, devices, restarts and retries: what a client sees when it comes back. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ResumeIT {

  @TempDir
  Path dataDir;

  /** Pushes {@code n} messages from alice to {@code to} over the event bus, one after another. */
  static Future<Void> pushFromAlice(Vertx vertx, String to, String prefix, int n) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      JsonObject push = new JsonObject().put("from", "alice").put("to", to).put("body", prefix + i);
      chain = chain.compose(v -> vertx.eventBus().request(Addresses.PUSH, push).mapEmpty());
    }
    return chain;
  }

  @Test
  @DisplayName("a device that acked seq N resumes after N, while another device of the user still gets everything")
  void ackedDeviceResumesAfterCursor(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> pushFromAlice(vertx, "bob", "m", 5)
        .compose(v -> server.json("bob", "phone"))
        .compose(phone -> phone.expect("message", 5)
            .compose(first -> phone.expect("synced"))
            .compose(synced -> phone.send(new JsonObject().put("type", "ack").put("seq", 3)))
            // A ping round trip: the ack was read before the socket closes.
            .compose(v -> phone.send(new JsonObject().put("type", "ping")))
            .compose(v -> phone.expect("pong"))
            .compose(v -> phone.close()))
        .compose(v -> server.json("bob", "phone"))
        .compose(phone -> phone.expect("message", 2).compose(again -> phone.expect("synced").map(synced -> {
          ctx.verify(() -> {
            assertEquals(List.of(4L, 5L), again.stream().map(m -> m.getLong("seq")).toList());
            assertEquals("m3", again.get(0).getString("body"));
          });
          return null;
        })))
        .compose(v -> server.json("bob", "laptop"))
        .compose(laptop -> laptop.expect("message", 5).map(all -> {
          ctx.verify(() -> assertEquals(List.of(1L, 2L, 3L, 4L, 5L), all.stream().map(m -> m.getLong("seq")).toList()));
          return null;
        }))
        .compose(v -> WsClient.connect(vertx, server.gatewayPort(), "/ws?user=bob&device=tablet&since=4", true))
        .compose(tablet -> tablet.expect("message").compose(m -> tablet.expect("synced").map(s -> {
          ctx.verify(() -> assertEquals(5L, m.getLong("seq")));
          return null;
        }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a device may name itself in a hello frame instead of the query string")
  void helloFrameStartsDelivery(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> pushFromAlice(vertx, "bob", "h", 3)
        .compose(v -> WsClient.connect(vertx, server.gatewayPort(), "/ws?user=bob", true))
        .compose(bob -> bob.send(new JsonObject().put("type", "hello").put("device", "web").put("since", 1))
            .compose(v -> bob.expect("message", 2))
            .compose(messages -> bob.expect("synced").map(s -> messages))))
        .onComplete(ctx.succeeding(messages -> ctx.verify(() -> {
          assertEquals(2L, messages.get(0).getLong("seq"));
          assertEquals(3L, messages.get(1).getLong("seq"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("messages sent while the backlog is being delivered arrive after it, in order, none lost or doubled")
  void liveMessagesDuringBacklogKeepOrder(Vertx vertx, VertxTestContext ctx) {
    int stored = 300;
    int live = 100;
    JsonObject smallPages = new JsonObject().put("gateway", new JsonObject().put("backlogPageSize", 7));
    TestServer.start(vertx, dataDir, smallPages).compose(server -> pushFromAlice(vertx, "bob", "b", stored)
        .compose(v -> server.json("bob", "phone"))
        .compose(bob -> {
          // Sent concurrently with the backlog reads: the pages are small, so they interleave.
          Future<Void> liveSends = pushFromAlice(vertx, "bob", "live", live);
          List<JsonObject> received = new ArrayList<>();
          return liveSends.compose(v -> collectMessages(bob, stored + live, received)).map(v -> received);
        }))
        .onComplete(ctx.succeeding(received -> ctx.verify(() -> {
          assertEquals(stored + live, received.size());
          for (int i = 0; i < received.size(); i++) {
            JsonObject m = received.get(i);
            assertEquals(i + 1L, m.getLong("seq"));
            assertEquals(i < stored ? "b" + i : "live" + (i - stored), m.getString("body"));
          }
          ctx.completeNow();
        })));
  }

  /** Takes frames until {@code n} messages were seen, ignoring the synced marker wherever it falls. */
  static Future<Void> collectMessages(WsClient client, int n, List<JsonObject> into) {
    if (into.size() == n) {
      return Future.succeededFuture();
    }
    return client.nextJson().compose(frame -> {
      String type = frame.getString("type");
      if ("message".equals(type)) {
        into.add(frame);
      } else if (!"synced".equals(type)) {
        return Future.failedFuture(new AssertionError("unexpected frame " + frame.encode()));
      }
      return collectMessages(client, n, into);
    });
  }

  @Test
  @DisplayName("a restarted server (new Vert.x, same data dir) still delivers what was stored before")
  void restartKeepsUndeliveredMessages(Vertx vertx, VertxTestContext ctx) throws Exception {
    // The first server lives in its own Vert.x, closed before the second starts; the test thread
    // (not an event loop) waits for each step.
    Vertx first = Vertx.vertx();
    TestServer.start(first, dataDir)
        .compose(server -> pushFromAlice(first, "dave", "before restart ", 10))
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    first.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);

    TestServer.start(vertx, dataDir)
        .compose(server -> server.json("dave", "phone")
            .compose(dave -> dave.expect("message", 10).compose(messages -> dave.expect("synced").map(s -> messages))))
        .onComplete(ctx.succeeding(messages -> ctx.verify(() -> {
          for (int i = 0; i < 10; i++) {
            assertEquals("before restart " + i, messages.get(i).getString("body"));
            assertEquals(i + 1L, messages.get(i).getLong("seq"));
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a send retried with the same id is accepted again with the same msgId and stored once")
  void retriedSendIsIdempotent(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "laptop")
        .compose(alice -> alice.sendMessage("same-id", "erin", "only once")
            .compose(v -> alice.expect("accepted"))
            .compose(first -> alice.sendMessage("same-id", "erin", "only once")
                .compose(v -> alice.expect("accepted"))
                .compose(second -> alice.sendMessage("same-id", "erin", "a different message")
                    .compose(v -> alice.expect("error"))
                    .compose(reused -> alice.sendMessage("next-id", "erin", "the next one")
                    .compose(v -> alice.expect("accepted"))
                    .map(third -> {
                      ctx.verify(() -> {
                        assertEquals(first.getString("msgId"), second.getString("msgId"));
                        assertTrue(second.getBoolean("duplicate"));
                        assertEquals("id_reused", reused.getString("code"));
                        assertEquals("same-id", reused.getString("id"));
                      });
                      return null;
                    })))))
        .compose(v -> server.json("erin", "phone"))
        .compose(erin -> erin.expect("message", 2).compose(messages -> erin.expect("synced").map(s -> messages))))
        .onComplete(ctx.succeeding(messages -> ctx.verify(() -> {
          assertEquals("only once", messages.get(0).getString("body"));
          assertEquals("the next one", messages.get(1).getString("body"));
          assertEquals(2L, messages.get(1).getLong("seq"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("seed text clients get what arrived while they were away, and not again on the next connect")
  void textClientsResumeFromTheirCursor(Vertx vertx, VertxTestContext ctx) {
    JsonObject fastCursor = new JsonObject().put("inbox", new JsonObject().put("cursorFlushMillis", 1));
    TestServer.start(vertx, dataDir, fastCursor).compose(server -> pushFromAlice(vertx, "frank", "away ", 3)
        .compose(v -> server.text("frank"))
        .compose(frank -> frank.texts(3).compose(texts -> {
          ctx.verify(() -> assertEquals(List.of("away 0", "away 1", "away 2"), texts));
          // Round trip through the router after the deliveries: their cursor moves were sent before it.
          return frank.send("frank|note to self").compose(v -> frank.next()).compose(echo -> frank.close());
        }))
        .compose(v -> pushFromAlice(vertx, "frank", "new ", 1))
        .compose(v -> server.text("frank"))
        .compose(WsClient::next))
        .onComplete(ctx.succeeding(text -> ctx.verify(() -> {
          assertEquals("new 0", text);
          ctx.completeNow();
        })));
  }
}
