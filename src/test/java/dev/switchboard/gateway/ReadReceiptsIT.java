package dev.switchboard.gateway;

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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Read receipts over real sockets and the real store: durable, in order with messages, once per device. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class ReadReceiptsIT {

  @TempDir
  Path dataDir;

  static JsonObject read(String peer, String upTo) {
    return new JsonObject().put("type", "read").put("peer", peer).put("upTo", upTo);
  }

  /** Bob sends alice one message while she is offline; its msgId, from bob's {@code accepted}. */
  static Future<String> bobWritesToAlice(TestServer server) {
    return server.online("bob", "web").compose(bob -> bob.sendMessage("b1", "alice", "hi alice")
        .compose(v -> bob.expect("accepted"))
        .compose(accepted -> bob.close().map(v -> accepted.getString("msgId"))));
  }

  @Test
  @DisplayName("a receipt to an offline peer arrives when he connects, in order with messages, and once across a reconnect")
  void receiptToOfflinePeerArrivesOnceInOrder(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> bobWritesToAlice(server)
        .compose(msgId -> server.json("alice", "phone").compose(alice -> alice.expect("message")
            .compose(message -> {
              ctx.verify(() -> assertEquals(msgId, message.getString("msgId")));
              // The receipt, then a reply: stored in this order, as sends of one connection are.
              return alice.send(read("bob", msgId));
            })
            .compose(v -> alice.sendMessage("a1", "bob", "read it"))
            .compose(v -> alice.expect("synced"))
            .compose(v -> alice.expect("accepted"))
            .compose(v -> alice.close()))
            // Alice's second device reads the same message: nothing new is stored for bob.
            .compose(v -> server.json("alice", "laptop"))
            .compose(laptop -> laptop.expect("message").compose(m -> laptop.expect("synced"))
                .compose(synced -> laptop.send(read("bob", msgId)))
                .compose(v -> SignalsIT.nothingBeforePong(laptop)))
            .compose(v -> server.json("bob", "web"))
            .compose(bob -> bob.expect("read").compose(receipt -> bob.expect("message").compose(reply ->
                bob.expect("synced").map(synced -> {
                  ctx.verify(() -> {
                    assertEquals("alice", receipt.getString("by"));
                    assertEquals(msgId, receipt.getString("upTo"));
                    assertEquals(1L, receipt.getLong("seq"));
                    assertEquals(2L, reply.getLong("seq"));
                    assertEquals("read it", reply.getString("body"));
                    assertEquals(2L, synced.getLong("seq"));
                  });
                  return null;
                })))
                .compose(v -> bob.send(new JsonObject().put("type", "ack").put("seq", 2)))
                .compose(v -> SignalsIT.nothingBeforePong(bob))
                .compose(v -> bob.close()))
            // Resumed after his ack: the receipt is not delivered again.
            .compose(v -> server.json("bob", "web"))
            .compose(bob -> bob.expect("synced").compose(synced -> {
              ctx.verify(() -> assertEquals(2L, synced.getLong("seq")));
              return SignalsIT.nothingBeforePong(bob);
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a receipt reaches the peer's live sessions at once; his text (seed) sessions skip it")
  void receiptReachesLiveSessions(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("bob", "web").compose(bob -> server.text("bob")
        .compose(seed -> server.online("alice", "phone").compose(alice -> alice.send(read("bob", "m-1"))
            .compose(v -> alice.sendMessage("a1", "bob", "after the receipt"))
            .compose(v -> bob.expect("read"))
            .compose(receipt -> {
              ctx.verify(() -> {
                assertEquals("alice", receipt.getString("by"));
                assertEquals("m-1", receipt.getString("upTo"));
              });
              return seed.next();
            })
            .map(text -> {
              ctx.verify(() -> assertEquals("after the receipt", text));
              return null;
            })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a read frame with a bad peer or upTo is refused and the connection goes on")
  void badReadIsRefused(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        alice.send(new JsonObject().put("type", "read").put("peer", "bob"))
            .compose(v -> alice.expect("error"))
            .compose(missing -> {
              ctx.verify(() -> assertEquals("missing_field", missing.getString("code")));
              return alice.send(read("b|ob", "m-1"));
            })
            .compose(v -> alice.expect("error"))
            .compose(invalid -> {
              ctx.verify(() -> assertEquals("invalid_user", invalid.getString("code")));
              return SignalsIT.nothingBeforePong(alice);
            })))
        .onComplete(ctx.succeedingThenComplete());
  }
}
