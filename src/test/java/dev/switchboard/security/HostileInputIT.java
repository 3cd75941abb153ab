package dev.switchboard.security;

import dev.switchboard.support.HeldClients;
import dev.switchboard.support.SlowClient;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
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
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attacks a running server through real sockets. After every attack a normal pair of users must
 * still exchange messages, and at the end every message accepted before, between and after the
 * attacks must have been delivered, once, in order.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class HostileInputIT {

  @TempDir
  Path dataDir;
  TestServer server;

  /** How long a connection may take to deliver its first request here. */
  static final long HANDSHAKE_TIMEOUT_MILLIS = 1000;

  static JsonObject tightLimits() {
    return new JsonObject()
        .put("gateway", new JsonObject().put("handshakeTimeoutSeconds", HANDSHAKE_TIMEOUT_MILLIS / 1000))
        .put("limits", new JsonObject()
            .put("messagesPerSecond", 5).put("messageBurst", 5).put("rateLimitStrikes", 10)
            .put("maxSessionsPerUser", 3).put("maxConnectionsPerIp", 60).put("maxJsonDepth", 8));
  }

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir, tightLimits()).onComplete(ctx.succeeding(s -> {
      server = s;
      ctx.completeNow();
    }));
  }


  /** One message from the control sender to the control recipient, then its delivery. */
  private Future<Void> stillServes(WsClient alice, WsClient bob, List<String> accepted, List<String> delivered, Vertx vertx) {
    String id = "control-" + accepted.size();
    // Spaced out so the control pair stays under its own rate limit.
    return vertx.timer(250, TimeUnit.MILLISECONDS)
        .compose(v -> alice.sendMessage(id, "bob", id))
        .compose(v -> alice.expect("accepted"))
        .compose(a -> {
          accepted.add(id);
          return bob.expect("message");
        })
        .map(m -> {
          delivered.add(m.getString("body"));
          return null;
        });
  }

  private Future<Void> rawFrames(Vertx vertx, Supplier<List<WebSocketFrame>> frames) {
    return server.online("mallory", "m1").compose(m -> {
      for (WebSocketFrame frame : frames.get()) {
        m.socket().writeFrame(frame);
      }
      return vertx.timer(200, TimeUnit.MILLISECONDS).compose(v -> m.close()).recover(e -> Future.succeededFuture());
    });
  }

  @Test
  @DisplayName("garbage, bad UTF-8, binary floods, nesting bombs, connect storms, half-open sockets and slowloris leave the service whole")
  void attacksLeaveTheServiceWhole(Vertx vertx, VertxTestContext ctx) {
    List<String> accepted = new ArrayList<>();
    List<String> delivered = new ArrayList<>();
    Future.all(server.online("alice", "laptop"), server.online("bob", "phone")).compose(pair -> {
      WsClient alice = pair.resultAt(0);
      WsClient bob = pair.resultAt(1);
      List<Supplier<Future<Void>>> attacks = List.of(
          () -> rawFrames(vertx, () -> List.of(WebSocketFrame.textFrame("{\"type\":\"send\",\"id\":", true),
              WebSocketFrame.textFrame("\u0000\u0001}{][", true), WebSocketFrame.textFrame("null", true))),
          () -> rawFrames(vertx, () -> List.of(WebSocketFrame.textFrame("", false),
              WebSocketFrame.continuationFrame(Buffer.buffer(new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF}), true))),
          () -> rawFrames(vertx, () -> {
            List<WebSocketFrame> flood = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
              flood.add(WebSocketFrame.binaryFrame(Buffer.buffer(new byte[1024]), true));
            }
            return flood;
          }),
          () -> rawFrames(vertx, () -> List.of(WebSocketFrame.textFrame("[".repeat(200_000), true),
              WebSocketFrame.textFrame("{\"type\":\"send\",\"id\":\"x\",\"to\":\"bob\",\"body\":\"" + "y".repeat(300_000) + "\"}", true))),
          () -> connectStorm(vertx, 1000),
          () -> halfOpenSockets(vertx, 40),
          () -> slowloris(vertx, 20));
      Future<Void> chain = stillServes(alice, bob, accepted, delivered, vertx);
      for (Supplier<Future<Void>> attack : attacks) {
        chain = chain.compose(v -> attack.get()).compose(v -> stillServes(alice, bob, accepted, delivered, vertx));
      }
      return chain;
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertEquals(8, accepted.size());
      assertEquals(accepted, delivered);
      ctx.completeNow();
    })));
  }

  private Future<Void> connectStorm(Vertx vertx, int cycles) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < cycles; i++) {
      String user = "storm" + (i % 7);
      chain = chain.compose(v -> WsClient.connect(vertx, server.gatewayPort(), "/ws?user=" + user + "&device=d", true)
          .compose(WsClient::close));
    }
    return chain;
  }

  /**
   * Sockets that start an HTTP upgrade and stop: the pair keeps talking meanwhile, and the server
   * drops them at the handshake timeout.
   */
  private Future<Void> halfOpenSockets(Vertx vertx, int count) {
    List<Future<NetSocket>> sockets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sockets.add(HeldClients.hold(vertx.createNetClient()).connect(server.gatewayPort(), "127.0.0.1")
          .compose(s -> s.write("GET /ws?user=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr").map(s)));
    }
    return Future.all(sockets).mapEmpty();
  }

  /**
   * Sockets that keep sending a byte of their upgrade request every 300 ms, so the idle timeout never
   * fires: the server must close every one at the handshake timeout, without an answer.
   */
  private Future<Void> slowloris(Vertx vertx, int count) {
    List<Future<SlowClient.Closed>> sockets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sockets.add(SlowClient.dribble(vertx, new NetClientOptions(), server.gatewayPort(), "GET /ws?user=loris" + i + " HT",
          "TP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", 300, HANDSHAKE_TIMEOUT_MILLIS + 1500));
    }
    return Future.all(sockets).compose(all -> {
      for (int i = 0; i < count; i++) {
        SlowClient.Closed closed = all.resultAt(i);
        if (closed.received().length() > 0) {
          return Future.failedFuture(new AssertionError("a slow socket got an answer: " + closed.received()));
        }
      }
      return Future.succeededFuture();
    });
  }

  @Test
  @DisplayName("a client over its rate limit gets rate_limited, and one that keeps going is closed with 4002")
  void rateLimit(VertxTestContext ctx) {
    server.online("flood", "d").compose(flood -> {
      // The burst is accepted...
      for (int i = 0; i < 5; i++) {
        flood.sendMessage("ok" + i, "nobody", "within the burst");
      }
      return flood.expect("accepted", 5).compose(burst -> {
        // ...the flood after it is refused frame by frame, then the connection is closed.
        for (int i = 0; i < 30; i++) {
          flood.sendMessage("f" + i, "nobody", "spam");
        }
        return collect(flood, 30);
      }).compose(frames -> flood.closed().map(code -> {
        long limited = frames.stream().filter(f -> "rate_limited".equals(f.getString("code"))).count();
        ctx.verify(() -> {
          // Nine refusals, then the tenth strike closes; a token refilled meanwhile only adds refusals.
          assertTrue(limited >= 9, "rate_limited " + limited + " of " + frames);
          assertEquals((short) 4002, code);
        });
        return null;
      }));
    }).onComplete(ctx.succeedingThenComplete());
  }

  /** Up to {@code n} frames, fewer if the server closes the connection first. */
  private static Future<List<JsonObject>> collect(WsClient client, int n) {
    List<JsonObject> frames = new ArrayList<>();
    Promise<List<JsonObject>> done = Promise.promise();
    takeNext(client, n, frames, done);
    return done.future();
  }

  private static void takeNext(WsClient client, int n, List<JsonObject> frames, Promise<List<JsonObject>> done) {
    if (frames.size() == n) {
      done.complete(frames);
      return;
    }
    client.nextJson().onComplete(ar -> {
      if (ar.failed()) {
        done.complete(frames);
      } else {
        frames.add(ar.result());
        takeNext(client, n, frames, done);
      }
    });
  }

  @Test
  @DisplayName("limits.maxSessionsPerUser: the session over the limit is refused with too_many_sessions")
  void sessionsPerUser(Vertx vertx, VertxTestContext ctx) {
    Future.all(server.online("ivy", "a"), server.online("ivy", "b"), server.online("ivy", "c"))
        .compose(three -> server.json("ivy", "d"))
        .compose(fourth -> fourth.expect("error").compose(error -> fourth.closed().map(code -> {
          ctx.verify(() -> {
            assertEquals("too_many_sessions", error.getString("code"));
            assertEquals((short) 1008, code);
          });
          return null;
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("gateway connections per IP are capped (limits.maxConnectionsPerIp) and freed on close")
  void connectionsPerIp(Vertx vertx, VertxTestContext ctx) {
    List<Future<WsClient>> open = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      open.add(server.online("user" + i, "d"));
    }
    Future.all(open)
        .compose(all -> server.json("one-too-many", "d")
            .transform(ar -> {
              ctx.verify(() -> assertTrue(ar.failed() && ar.cause().getMessage().contains("429"), String.valueOf(ar.cause())));
              return all.<WsClient>resultAt(0).close();
            }))
        .compose(v -> vertx.timer(100, TimeUnit.MILLISECONDS))
        .compose(v -> server.online("now-fits", "d"))
        .onComplete(ctx.succeedingThenComplete());
  }
}
