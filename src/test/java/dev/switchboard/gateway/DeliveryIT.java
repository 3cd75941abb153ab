package dev.switchboard.gateway;

import dev.switchboard.support.HeldClients;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class DeliveryIT {

  @TempDir
  Path dataDir;
  TestServer server;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).onComplete(ctx.succeeding(s -> {
      server = s;
      ctx.completeNow();
    }));
  }

  @Test
  @DisplayName("a JSON client's message reaches the online recipient, and the sender learns it is durable")
  void jsonOnlineDelivery(VertxTestContext ctx) {
    server.json("bob", "phone").compose(bob -> bob.expect("synced")
        .compose(v -> server.json("alice", "laptop"))
        .compose(alice -> alice.expect("synced")
            .compose(v -> alice.sendMessage("c1", "bob", "hello bob 你好 🎉"))
            .compose(v -> alice.expect("accepted"))
            .compose(accepted -> bob.expect("message").map(message -> {
              ctx.verify(() -> {
                assertEquals("c1", accepted.getString("id"));
                assertTrue(accepted.getBoolean("online"));
                assertEquals(accepted.getString("msgId"), message.getString("msgId"));
                assertEquals(1L, message.getLong("seq"));
                assertEquals("alice", message.getString("from"));
                assertEquals("bob", message.getString("to"));
                assertEquals("hello bob 你好 🎉", message.getString("body"));
              });
              return null;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a message frame larger than gateway.maxFrameBytes reaches a client with that frame limit whole, in order")
  void messageLargerThanOneFrame(Vertx vertx, VertxTestContext ctx) {
    // 1,024 is the smallest frame limit; a 960-byte body fits in a send frame but its message frame
    // (with msgId, seq, from, to, ts) does not, so the server must split it into fragments
    String ascii = "a".repeat(959) + "!";
    String twoByte = "é".repeat(480);
    List<String> bodies = List.of("before", ascii, twoByte, "after");
    JsonObject smallFrames = new JsonObject().put("gateway", new JsonObject().put("maxFrameBytes", 1024));
    // bob's client refuses (closes on) any frame over 1,024 bytes; Vert.x joins the fragments
    WebSocketClient strict = HeldClients.hold(vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxFrameSize(1024)));
    List<JsonObject> received = new ArrayList<>();
    Promise<Void> allReceived = Promise.promise();
    server.stop().compose(v -> TestServer.start(vertx, dataDir.resolve("small"), smallFrames))
        .compose(small -> strict.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(small.gatewayPort())
                .setURI("/ws?user=bob&device=phone").addSubProtocol("switchboard.v1"))
            .compose(bob -> {
              Promise<Void> synced = Promise.promise();
              bob.closeHandler(x -> allReceived.tryFail("bob's socket closed: " + bob.closeStatusCode() + " "
                  + bob.closeReason()));
              bob.textMessageHandler(text -> {
                JsonObject frame = new JsonObject(text);
                if ("synced".equals(frame.getString("type"))) {
                  synced.tryComplete();
                } else if ("message".equals(frame.getString("type")) && received.add(frame)
                    && received.size() == bodies.size()) {
                  allReceived.tryComplete();
                }
              });
              return synced.future();
            })
            .compose(v -> small.online("alice", "laptop"))
            .compose(alice -> sendOneByOne(alice, "bob", bodies)))
        .compose(v -> allReceived.future())
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertEquals(bodies, received.stream().map(m -> m.getString("body")).toList());
          assertEquals(List.of(1L, 2L, 3L, 4L), received.stream().map(m -> m.getLong("seq")).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("message frames of each header size (7-, 16- and 64-bit length) reach the client whole and in order")
  void messageFramesOfEveryLengthForm(VertxTestContext ctx) {
    // message frames of ~150 bytes, ~400 bytes and ~65 KiB (a 64 KiB body, the default limit)
    List<String> bodies = List.of("short", "m".repeat(300), "ü".repeat(32 * 1024), "after");
    server.online("bob", "phone").compose(bob -> server.online("alice", "laptop")
        .compose(alice -> sendOneByOne(alice, "bob", bodies))
        .compose(v -> bob.expect("message", bodies.size())))
        .onComplete(ctx.succeeding(messages -> ctx.verify(() -> {
      assertEquals(bodies, messages.stream().map(m -> m.getString("body")).toList());
      assertEquals(List.of(1L, 2L, 3L, 4L), messages.stream().map(m -> m.getLong("seq")).toList());
      ctx.completeNow();
    })));
  }

  /** Sends each body to {@code to} (ids c0, c1, ...), the next once the previous one is accepted. */
  private static Future<Void> sendOneByOne(WsClient from, String to, List<String> bodies) {
    Future<Void> sent = Future.succeededFuture();
    for (int i = 0; i < bodies.size(); i++) {
      String id = "c" + i;
      String body = bodies.get(i);
      sent = sent.compose(x -> from.sendMessage(id, to, body)).compose(x -> from.expect("accepted")).mapEmpty();
    }
    return sent;
  }

  @Test
  @DisplayName("seed text clients exchange TO|CONTENT frames; a frame without | goes to the last recipient")
  void textFormatDelivery(VertxTestContext ctx) {
    server.text("bob").compose(bob -> server.text("alice")
        .compose(alice -> alice.send("bob|hi|with a bar")
            .compose(v -> alice.send("second message"))
            .compose(v -> bob.texts(2)))
        .map(texts -> {
          ctx.verify(() -> assertEquals(List.of("hi|with a bar", "second message"), texts));
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("every live session of the recipient receives the message")
  void multiSession(VertxTestContext ctx) {
    Future.all(server.json("bob", "phone"), server.json("bob", "browser"), server.text("bob"))
        .compose(all -> {
          WsClient phone = all.resultAt(0);
          WsClient browser = all.resultAt(1);
          WsClient seed = all.resultAt(2);
          return Future.all(phone.expect("synced"), browser.expect("synced"))
              .compose(v -> server.online("alice", "laptop"))
              .compose(alice -> alice.sendMessage("m1", "bob", "to all devices").compose(v -> alice.expect("accepted")))
              .compose(v -> Future.all(phone.expect("message"), browser.expect("message"), seed.next()))
              .map(got -> {
                ctx.verify(() -> {
                  assertEquals("to all devices", got.<JsonObject>resultAt(0).getString("body"));
                  assertEquals("to all devices", got.<JsonObject>resultAt(1).getString("body"));
                  assertEquals("to all devices", got.<String>resultAt(2));
                });
                return null;
              });
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("messages to an offline user are delivered in order when the user connects")
  void offlineThenReconnect(VertxTestContext ctx) {
    int count = 20;
    // Online first: nothing orders alice's own synced frame before the answers to her sends.
    server.online("alice", "laptop").compose(alice -> {
      Future<Void> sends = Future.succeededFuture();
      for (int i = 0; i < count; i++) {
        int n = i;
        sends = sends.compose(v -> alice.sendMessage("o" + n, "carol", "offline " + n));
      }
      return sends.compose(v -> alice.expect("accepted", count));
    }).compose(accepted -> server.json("carol", "phone"))
        .compose(carol -> carol.expect("message", count).compose(messages -> carol.expect("synced").map(synced -> {
          ctx.verify(() -> {
            for (int i = 0; i < count; i++) {
              assertEquals("offline " + i, messages.get(i).getString("body"));
              assertEquals(i + 1L, messages.get(i).getLong("seq"));
            }
            assertEquals(count, synced.getLong("seq"));
          });
          return null;
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with several gateway instances, sessions spread over them all receive the user's messages")
  void severalGatewayInstances(Vertx vertx, VertxTestContext ctx) {
    server.stop().compose(v -> TestServer.start(vertx, dataDir.resolve("multi"),
            new JsonObject().put("gateway", new JsonObject().put("instances", 3))))
        .compose(multi -> {
          List<Future<WsClient>> sessions = new ArrayList<>();
          for (int i = 0; i < 6; i++) {
            sessions.add(multi.online("bob", "device-" + i));
          }
          return Future.all(sessions).compose(all -> multi.online("alice", "laptop")
              .compose(alice -> alice.sendMessage("x", "bob", "everywhere").compose(v -> alice.expect("accepted")))
              .compose(accepted -> {
                List<Future<JsonObject>> received = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                  received.add(all.<WsClient>resultAt(i).expect("message"));
                }
                return Future.all(received);
              }));
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (int i = 0; i < 6; i++) {
            assertEquals("everywhere", all.<JsonObject>resultAt(i).getString("body"));
          }
          ctx.completeNow();
        })));
  }
}
