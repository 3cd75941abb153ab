package dev.switchboard.gateway;

import dev.switchboard.support.HeldClients;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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

/** The heartbeat, the inbox cap and retention, each at a small configured value. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class LimitsIT {

  @TempDir
  Path dataDir;


  @Test
  @DisplayName("a connection that answers no ping is closed with 4000 after the idle timeout; a live one stays open")
  void heartbeatClosesSilentConnections(Vertx vertx, VertxTestContext ctx) {
    JsonObject fastHeartbeat = new JsonObject().put("gateway",
        new JsonObject().put("heartbeatIntervalSeconds", 1).put("idleTimeoutSeconds", 2));
    TestServer.start(vertx, dataDir, fastHeartbeat).compose(server -> {
      Future<WsClient> live = server.online("alive", "phone");
      // A raw socket that completes the WebSocket handshake and then never answers: a dead phone.
      long openedAt = System.currentTimeMillis();
      Promise<Buffer> silentClosed = Promise.promise();
      Buffer received = Buffer.buffer();
      Future<Void> silent = HeldClients.hold(vertx.createNetClient()).connect(server.gatewayPort(), "127.0.0.1").compose(socket -> {
        socket.handler(received::appendBuffer);
        socket.closeHandler(v -> silentClosed.complete(received));
        return socket.write("GET /ws?user=zombie HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      });
      return silent.compose(v -> silentClosed.future()).compose(bytes -> live.map(alive -> {
        long lived = System.currentTimeMillis() - openedAt;
        ctx.verify(() -> {
          assertTrue(lived >= 2000, "closed after " + lived + " ms, before the idle timeout");
          assertTrue(bytes.toString().startsWith("HTTP/1.1 101"), "handshake was accepted");
          assertTrue(containsPing(bytes), "the server pinged before giving up");
          assertTrue(containsClose(bytes, 4000), "closed with code 4000");
          assertFalse(alive.socket().isClosed(), "a client that answers pings stays connected");
        });
        return alive;
      })).compose(alive -> new Http(vertx, server.pushPort()).get("/api/v1/users/zombie/presence"));
    }).onComplete(ctx.succeeding(presence -> ctx.verify(() -> {
      assertFalse(presence.json().getBoolean("online"));
      ctx.completeNow();
    })));
  }

  private static int headerEnd(Buffer bytes) {
    return bytes.toString(java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n") + 4;
  }

  private static boolean containsPing(Buffer bytes) {
    for (int i = headerEnd(bytes); i < bytes.length(); i++) {
      if ((bytes.getByte(i) & 0xFF) == 0x89) {
        return true;
      }
    }
    return false;
  }

  private static boolean containsClose(Buffer bytes, int code) {
    for (int i = headerEnd(bytes); i + 3 < bytes.length(); i++) {
      if ((bytes.getByte(i) & 0xFF) == 0x88 && bytes.getUnsignedShort(i + 2) == code) {
        return true;
      }
    }
    return false;
  }

  @Test
  @DisplayName("a client that stops reading gets every message, in order and once, when it reads again")
  void slowConsumerCatchesUpFromTheStore(Vertx vertx, VertxTestContext ctx) {
    int count = 600;
    String body = "x".repeat(32 * 1024);
    JsonObject smallQueue = new JsonObject().put("gateway", new JsonObject().put("maxWriteQueueBytes", 16 * 1024));
    TestServer.start(vertx, dataDir, smallQueue).compose(server -> server.online("slow", "phone").compose(slow -> {
      slow.socket().pause();
      Future<Void> sends = Future.succeededFuture();
      for (int i = 0; i < count; i++) {
        JsonObject push = new JsonObject().put("from", "alice").put("to", "slow").put("body", i + ":" + body);
        sends = sends.compose(v -> vertx.eventBus().request(dev.switchboard.bus.Addresses.PUSH, push).mapEmpty());
      }
      return sends.compose(v -> {
        slow.socket().resume();
        return slow.expect("message", count);
      });
    })).onComplete(ctx.succeeding(messages -> ctx.verify(() -> {
      for (int i = 0; i < count; i++) {
        assertEquals(i + 1L, messages.get(i).getLong("seq"));
        assertTrue(messages.get(i).getString("body").startsWith(i + ":"));
      }
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a session whose client has sent its close frame, while its socket cannot drain, does not keep the user's other sessions from their messages")
  void closingSessionDoesNotStopTheOthers(Vertx vertx, VertxTestContext ctx) {
    // bob's phone stops reading; ~13 MB of messages fill the kernel's buffers and leave the rest in
    // the server's write buffer, under a write queue limit too large to pause its live delivery.
    // Its close frame is then read by the server but the echo cannot be written, so the socket
    // counts as closed while its close handler has not run: the phone comes first in bob's
    // sessions, and the next message must still reach the laptop.
    int count = 400;
    String body = "x".repeat(32 * 1024);
    JsonObject bigQueue = new JsonObject().put("gateway", new JsonObject().put("maxWriteQueueBytes", 256 * 1024 * 1024));
    TestServer.start(vertx, dataDir, bigQueue).compose(server -> server.online("bob", "phone")
        .compose(phone -> server.online("bob", "laptop").compose(laptop -> {
          phone.socket().pause();
          Future<Void> sends = Future.succeededFuture();
          for (int i = 0; i < count; i++) {
            JsonObject push = new JsonObject().put("from", "alice").put("to", "bob").put("body", i + ":" + body);
            sends = sends.compose(v -> vertx.eventBus().request(dev.switchboard.bus.Addresses.PUSH, push).mapEmpty());
          }
          return sends
              .compose(v -> laptop.expect("message", count))
              .compose(v -> {
                phone.socket().close((short) 1000, "leaving");
                JsonObject last = new JsonObject().put("from", "alice").put("to", "bob").put("body", "after the close");
                return vertx.eventBus().request(dev.switchboard.bus.Addresses.PUSH, last);
              })
              .compose(v -> laptop.expect("message"))
              // reading again lets the close handshake finish instead of waiting out the client's timeout
              .onComplete(v -> phone.socket().resume());
        }))).onComplete(ctx.succeeding(message -> ctx.verify(() -> {
          assertEquals("after the close", message.getString("body"));
          assertEquals(count + 1L, message.getLong("seq"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("sends beyond inbox.maxMessagesPerUser are refused with inbox_full, over WebSocket and HTTP")
  void inboxCap(Vertx vertx, VertxTestContext ctx) {
    JsonObject smallInbox = new JsonObject().put("inbox", new JsonObject().put("maxMessagesPerUser", 3));
    TestServer.start(vertx, dataDir, smallInbox).compose(server -> server.online("alice", "laptop")
        .compose(alice -> alice.sendMessage("1", "gina", "one")
            .compose(v -> alice.sendMessage("2", "gina", "two"))
            .compose(v -> alice.sendMessage("3", "gina", "three"))
            .compose(v -> alice.sendMessage("4", "gina", "four"))
            .compose(v -> alice.expect("accepted", 3))
            .compose(v -> alice.expect("error")))
        .compose(error -> new Http(vertx, server.pushPort())
            .postJson("/api/v1/messages", new JsonObject().put("to", "gina").put("body", "five"))
            .map(response -> List.of(error, response))))
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          JsonObject error = (JsonObject) both.get(0);
          assertEquals("inbox_full", error.getString("code"));
          assertEquals("4", error.getString("id"));
          Http.Response response = (Http.Response) both.get(1);
          assertEquals(429, response.status());
          assertEquals("inbox_full", response.json().getString("error"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("messages past retention are not delivered; the device is told with a gap frame")
  void retentionGap(Vertx vertx, VertxTestContext ctx) {
    JsonObject shortRetention = new JsonObject().put("inbox", new JsonObject().put("retentionSeconds", 1));
    TestServer.start(vertx, dataDir, shortRetention).compose(server -> ResumeIT.pushFromAlice(vertx, "hank", "old ", 3)
        // Retention goes by the clock: letting it pass is the behaviour under test, not a wait for an event.
        .compose(v -> vertx.timer(1_500, TimeUnit.MILLISECONDS))
        .compose(v -> ResumeIT.pushFromAlice(vertx, "hank", "new ", 2))
        .compose(v -> server.json("hank", "phone"))
        .compose(hank -> hank.expect("gap").compose(gap -> hank.expect("message", 2)
            .compose(messages -> hank.expect("synced").map(synced -> {
              ctx.verify(() -> {
                assertEquals(1L, gap.getLong("from"));
                assertEquals(3L, gap.getLong("to"));
                assertEquals(List.of(4L, 5L), messages.stream().map(m -> m.getLong("seq")).toList());
                assertEquals("new 0", messages.get(0).getString("body"));
                assertEquals(5L, synced.getLong("seq"));
              });
              return null;
            })))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
