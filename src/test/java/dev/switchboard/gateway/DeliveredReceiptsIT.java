package dev.switchboard.gateway;

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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Delivered receipts over real sockets and the real store: opt-in, durable, once per recipient and message. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class DeliveredReceiptsIT {

  @TempDir
  Path dataDir;

  static JsonObject sendWithReceipt(String id, String to, String body) {
    return new JsonObject().put("type", "send").put("id", id).put("to", to).put("body", body).put("receipt", true);
  }

  static Future<Void> ack(WsClient client, long seq) {
    return client.send(new JsonObject().put("type", "ack").put("seq", seq));
  }

  /** Sends a plain message and waits for its {@code accepted}: whatever the session stored before is stored by then. */
  static Future<JsonObject> sendAndWait(WsClient client, String id, String to, String body) {
    return client.sendMessage(id, to, body).compose(v -> client.expect("accepted"));
  }

  @Test
  @DisplayName("a recipient's ack of a message that asked for it sends the live sender a delivered frame")
  void liveSenderGetsDelivered(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "web").compose(alice ->
        server.online("bob", "phone").compose(bob -> alice.send(sendWithReceipt("a1", "bob", "hi bob"))
            .compose(v -> alice.expect("accepted"))
            .compose(accepted -> bob.expect("message").compose(message -> {
              ctx.verify(() -> assertEquals(accepted.getString("msgId"), message.getString("msgId")));
              return ack(bob, message.getLong("seq"));
            }).compose(v -> alice.expect("delivered")).map(delivered -> {
              ctx.verify(() -> {
                assertEquals("bob", delivered.getString("by"));
                assertEquals(accepted.getString("msgId"), delivered.getString("upTo"));
                assertEquals(1L, delivered.getLong("seq"));
              });
              return null;
            })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("an offline sender gets the delivered receipt from its inbox when it connects, in seq order")
  void offlineSenderGetsItLater(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("bob", "phone").compose(bob ->
        server.online("alice", "web").compose(alice -> alice.send(sendWithReceipt("a1", "bob", "hi bob"))
            .compose(v -> alice.expect("accepted"))
            .compose(accepted -> alice.close().map(v -> accepted.getString("msgId"))))
            .compose(msgId -> bob.expect("message")
                .compose(message -> ack(bob, message.getLong("seq")))
                .compose(v -> sendAndWait(bob, "b1", "alice", "got it"))
                .compose(v -> server.json("alice", "web"))
                .compose(alice -> alice.expect("delivered").compose(delivered -> alice.expect("message")
                    .compose(reply -> alice.expect("synced").map(synced -> {
                      ctx.verify(() -> {
                        assertEquals(msgId, delivered.getString("upTo"));
                        assertEquals("bob", delivered.getString("by"));
                        assertEquals(1L, delivered.getLong("seq"));
                        assertEquals(2L, reply.getLong("seq"));
                        assertEquals(2L, synced.getLong("seq"));
                      });
                      return null;
                    })))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("two devices acking the same message store one receipt")
  void twoDevicesOneReceipt(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("bob", "phone").compose(phone ->
        server.online("bob", "laptop").compose(laptop -> server.online("alice", "web")
            .compose(alice -> alice.send(sendWithReceipt("a1", "bob", "hi bob"))
                .compose(v -> alice.expect("accepted"))
                .compose(accepted -> alice.close().map(v -> accepted.getString("msgId"))))
            .compose(msgId -> phone.expect("message").compose(m -> ack(phone, m.getLong("seq")))
                .compose(v -> sendAndWait(phone, "p1", "alice", "from the phone"))
                .compose(v -> laptop.expect("message")).compose(m -> ack(laptop, m.getLong("seq")))
                .compose(v -> sendAndWait(laptop, "l1", "alice", "from the laptop"))
                .compose(v -> server.json("alice", "tablet"))
                .compose(tablet -> tablet.expect("delivered").compose(delivered -> tablet.expect("message", 2)
                    .compose(messages -> tablet.expect("synced").map(synced -> {
                      ctx.verify(() -> {
                        assertEquals(msgId, delivered.getString("upTo"));
                        assertEquals("from the phone", messages.get(0).getString("body"));
                        assertEquals("from the laptop", messages.get(1).getString("body"));
                        assertEquals(3L, synced.getLong("seq"));
                      });
                      return null;
                    }))))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a message sent without the flag yields no receipt when acked")
  void noFlagNoReceipt(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("bob", "phone").compose(bob ->
        server.online("alice", "web").compose(alice -> sendAndWait(alice, "a1", "bob", "hi bob")
            .compose(accepted -> bob.expect("message").compose(m -> ack(bob, m.getLong("seq")))
                .compose(v -> sendAndWait(bob, "b1", "alice", "got it"))
                .compose(v -> alice.expect("message"))
                .map(reply -> {
                  ctx.verify(() -> {
                    assertFalse(accepted.getString("msgId").endsWith(".r"), accepted.encode());
                    assertEquals("got it", reply.getString("body"));
                    assertEquals(1L, reply.getLong("seq"));
                  });
                  return null;
                })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a message stored before a restart and delivered from the backlog yields a receipt when acked")
  void backlogMessageAckedAfterRestart(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(first -> first.online("alice", "web")
            .compose(alice -> alice.send(sendWithReceipt("a1", "bob", "while you were away"))
                .compose(v -> alice.expect("accepted"))
                .compose(accepted -> alice.close().map(v -> accepted.getString("msgId"))))
            .compose(msgId -> first.stop().map(v -> msgId)))
        .compose(msgId -> TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "web")
            .compose(alice -> server.json("bob", "phone").compose(bob -> bob.expect("message")
                .compose(message -> bob.expect("synced").compose(synced -> ack(bob, message.getLong("seq"))))
                .compose(v -> alice.expect("delivered"))
                .map(delivered -> {
                  ctx.verify(() -> {
                    assertEquals(msgId, delivered.getString("upTo"));
                    assertEquals("bob", delivered.getString("by"));
                  });
                  return null;
                })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a receipt flag that is not a boolean is refused")
  void badFlagIsRefused(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "web").compose(alice ->
        alice.send(sendWithReceipt("a1", "bob", "x").put("receipt", "yes"))
            .compose(v -> alice.expect("error"))
            .map(error -> {
              ctx.verify(() -> {
                assertEquals("invalid_field", error.getString("code"));
                assertEquals("a1", error.getString("id"));
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }
}
