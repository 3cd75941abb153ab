package dev.switchboard.security;

import dev.switchboard.protocol.CloseCodes;
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
  /** How much later than the handshake timeout a slow socket may be closed on a busy machine. */
  static final long CLOSE_MARGIN_MILLIS = 1500;
  /** The messages the control pair exchanges in the attack test: one before and one after each attack, one during. */
  static final int CONTROL_MESSAGES = 9;
  /** Sends a connection may make at once; all of the control pair's fit, so they need no spacing. */
  static final int BURST = 10;

  static JsonObject tightLimits() {
    return new JsonObject()
        .put("gateway", new JsonObject().put("handshakeTimeoutSeconds", HANDSHAKE_TIMEOUT_MILLIS / 1000))
        .put("limits", new JsonObject()
            .put("messagesPerSecond", 5).put("messageBurst", BURST).put("rateLimitStrikes", 10)
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
  private Future<Void> stillServes(WsClient alice, WsClient bob, List<String> accepted, List<String> delivered) {
    String id = "control-" + accepted.size();
    return alice.sendMessage(id, "bob", id)
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

  /** Fails unless {@code condition} holds, with {@code message} and what was seen. */
  private static Future<Void> check(boolean condition, String message) {
    return condition ? Future.succeededFuture() : Future.failedFuture(new AssertionError(message));
  }

  /**
   * Writes {@code frames} on a fresh session, then takes the server's answer: one error frame per
   * refused message, each with {@code code}, after which the same connection still answers a ping.
   */
  private Future<Void> refusedFrameByFrame(Supplier<List<WebSocketFrame>> frames, int errors, String code) {
    return server.online("mallory", "m1").compose(m -> {
      for (WebSocketFrame frame : frames.get()) {
        m.socket().writeFrame(frame);
      }
      return m.expect("error", errors)
          .compose(refusals -> check(refusals.stream().allMatch(e -> code.equals(e.getString("code"))),
              "expected " + errors + " " + code + " errors, got codes "
                  + refusals.stream().map(e -> e.getString("code")).distinct().toList() + ", first " + refusals.get(0).encode()))
          .compose(v -> m.send(new JsonObject().put("type", "ping")))
          .compose(v -> m.expect("pong"))
          .compose(pong -> m.close());
    });
  }

  /** A nesting bomb is refused with bad_json; a frame beyond gateway.maxFrameBytes then closes the connection with 1009. */
  private Future<Void> nestingBombThenHugeFrame() {
    return server.online("mallory", "m1").compose(m -> {
      m.socket().writeFrame(WebSocketFrame.textFrame("[".repeat(200_000), true));
      return m.expect("error")
          .compose(error -> check("bad_json".equals(error.getString("code")), "nesting bomb answered " + error.encode()))
          .compose(v -> {
            m.socket().writeFrame(WebSocketFrame.textFrame(
                "{\"type\":\"send\",\"id\":\"x\",\"to\":\"bob\",\"body\":\"" + "y".repeat(300_000) + "\"}", true));
            return m.closed();
          })
          .compose(code -> check(Short.valueOf(CloseCodes.MESSAGE_TOO_BIG).equals(code), "a frame beyond the limit closed with " + code));
    });
  }

  @Test
  @DisplayName("garbage, bad UTF-8, binary floods, nesting bombs, connect storms, half-open sockets and slowloris each get their answer and leave the service whole")
  void attacksLeaveTheServiceWhole(Vertx vertx, VertxTestContext ctx) {
    List<String> accepted = new ArrayList<>();
    List<String> delivered = new ArrayList<>();
    Future.all(server.online("alice", "laptop"), server.online("bob", "phone")).compose(pair -> {
      WsClient alice = pair.resultAt(0);
      WsClient bob = pair.resultAt(1);
      List<Supplier<Future<Void>>> attacks = List.of(
          () -> refusedFrameByFrame(() -> List.of(WebSocketFrame.textFrame("{\"type\":\"send\",\"id\":", true),
              WebSocketFrame.textFrame("\u0000\u0001}{][", true), WebSocketFrame.textFrame("null", true)), 3, "bad_json"),
          () -> refusedFrameByFrame(() -> List.of(WebSocketFrame.textFrame("", false),
              WebSocketFrame.continuationFrame(Buffer.buffer(new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF}), true)), 1, "bad_encoding"),
          () -> refusedFrameByFrame(() -> {
            List<WebSocketFrame> flood = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
              flood.add(WebSocketFrame.binaryFrame(Buffer.buffer(new byte[1024]), true));
            }
            return flood;
          }, 500, "unsupported_frame"),
          this::nestingBombThenHugeFrame,
          () -> connectStorm(1000),
          // The pair exchanges a message while the half-open sockets wait for their deadline.
          () -> Future.all(halfOpenSockets(vertx, 40), stillServes(alice, bob, accepted, delivered)).mapEmpty(),
          () -> slowloris(vertx, 20));
      Future<Void> chain = stillServes(alice, bob, accepted, delivered);
      for (Supplier<Future<Void>> attack : attacks) {
        chain = chain.compose(v -> attack.get()).compose(v -> stillServes(alice, bob, accepted, delivered));
      }
      return chain;
    }).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertEquals(CONTROL_MESSAGES, accepted.size());
      assertEquals(accepted, delivered);
      ctx.completeNow();
    })));
  }

  /** Connects and disconnects over and over; every connection is accepted and synced. */
  private Future<Void> connectStorm(int cycles) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < cycles; i++) {
      String user = "storm" + (i % 7);
      chain = chain.compose(v -> server.online(user, "d").compose(WsClient::close));
    }
    return chain;
  }

  /**
   * Sockets that start an HTTP upgrade and stop: the server must close every one at the handshake
   * timeout, without an answer.
   */
  private Future<Void> halfOpenSockets(Vertx vertx, int count) {
    List<Future<SlowClient.Closed>> sockets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sockets.add(SlowClient.dribble(vertx, new NetClientOptions(), server.gatewayPort(),
          "GET /ws?user=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr", "", 1000, HANDSHAKE_TIMEOUT_MILLIS + CLOSE_MARGIN_MILLIS));
    }
    return closedWithoutAnswer(sockets, "half-open");
  }

  /**
   * Sockets that keep sending a byte of their upgrade request every 300 ms, so the idle timeout never
   * fires: the server must close every one at the handshake timeout, without an answer.
   */
  private Future<Void> slowloris(Vertx vertx, int count) {
    List<Future<SlowClient.Closed>> sockets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sockets.add(SlowClient.dribble(vertx, new NetClientOptions(), server.gatewayPort(), "GET /ws?user=loris" + i + " HT",
          "TP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", 300,
          HANDSHAKE_TIMEOUT_MILLIS + CLOSE_MARGIN_MILLIS));
    }
    return closedWithoutAnswer(sockets, "slow");
  }

  /** Every socket was closed by the server in time (SlowClient fails otherwise) and received nothing. */
  private static Future<Void> closedWithoutAnswer(List<Future<SlowClient.Closed>> sockets, String kind) {
    return Future.all(sockets).compose(all -> {
      for (int i = 0; i < sockets.size(); i++) {
        SlowClient.Closed closed = all.resultAt(i);
        if (closed.received().length() > 0) {
          return Future.failedFuture(new AssertionError("a " + kind + " socket got an answer: " + closed.received()));
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
      for (int i = 0; i < BURST; i++) {
        flood.sendMessage("ok" + i, "nobody", "within the burst");
      }
      return flood.expect("accepted", BURST).compose(burst -> {
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
        .compose(v -> fitsWithin(vertx, System.currentTimeMillis() + 5_000))
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * Connects until the server has freed a slot, failing at {@code deadline}. The server frees it when
   * it sees the closed connection's TCP close, which no frame or close the client receives follows:
   * there is no event to await, so the connect is retried (only a refusal with 429 is retried).
   */
  private Future<Void> fitsWithin(Vertx vertx, long deadline) {
    return server.online("now-fits", "d").<Void>mapEmpty().recover(e -> {
      if (!String.valueOf(e.getMessage()).contains("429") || System.currentTimeMillis() > deadline) {
        return Future.failedFuture(e);
      }
      return vertx.timer(10, TimeUnit.MILLISECONDS).compose(v -> fitsWithin(vertx, deadline));
    });
  }
}
