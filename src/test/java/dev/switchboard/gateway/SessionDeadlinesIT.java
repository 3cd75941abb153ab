package dev.switchboard.gateway;

import dev.switchboard.support.HeldClients;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session ends when its token expires (exp + auth.jwtLeewaySeconds) or when it falls silent
 * (gateway.idleTimeoutSeconds), at that time and not at the next heartbeat. The heartbeat interval
 * here is long next to the margins asserted, so a check made on heartbeat ticks misses them.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 40, timeUnit = TimeUnit.SECONDS)
class SessionDeadlinesIT {

  static final String SECRET = "test-secret-of-at-least-32-bytes-long!";
  static final int LEEWAY_SECONDS = 2;
  static final long IDLE_MILLIS = 5_000;
  /** How late after its deadline a close may arrive here (a loaded machine, a loopback hop). */
  static final long MARGIN_MILLIS = 700;

  @TempDir
  Path dataDir;

  static JsonObject config(boolean allowTokensWithoutExp) {
    return new JsonObject()
        .put("gateway", new JsonObject().put("heartbeatIntervalSeconds", 4).put("idleTimeoutSeconds", IDLE_MILLIS / 1000))
        .put("auth", new JsonObject().put("mode", "jwt").put("jwtKey", SECRET).put("jwtLeewaySeconds", LEEWAY_SECONDS)
            .put("allowTokensWithoutExp", allowTokensWithoutExp));
  }

  static JWTAuth issuer(Vertx vertx) {
    return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
  }

  static String token(JWTAuth issuer, String user, long expSeconds) {
    return issuer.generateToken(new JsonObject().put("sub", user).put("exp", expSeconds), new JWTOptions().setNoTimestamp(true));
  }

  /** Connects with the token and completes with the time the server's close arrived, and its code. */
  private static Future<long[]> closedAt(Vertx vertx, TestServer server, String user, String token) {
    return WsClient.connect(vertx, server.gatewayPort(), "/ws?device=d&token=" + token, true)
        .compose(client -> client.expect("synced").compose(s -> client.closed())
            .map(code -> new long[] {System.currentTimeMillis(), code}));
  }

  private static void assertClosedInWindow(long[] closed, long deadline, int code, String what) {
    assertEquals(code, closed[1], what + ": close code");
    assertTrue(closed[0] >= deadline, what + ": closed " + (deadline - closed[0]) + " ms before its deadline");
    assertTrue(closed[0] <= deadline + MARGIN_MILLIS, what + ": closed " + (closed[0] - deadline) + " ms after its deadline");
  }

  @Test
  @DisplayName("a session closes with 4001 at its token's exp + leeway, a token already past exp but within the leeway included")
  void tokenExpiryClosesAtExpPlusLeeway(Vertx vertx, VertxTestContext ctx) {
    JWTAuth issuer = issuer(vertx);
    TestServer.start(vertx, dataDir, config(false)).compose(server -> {
      long now = System.currentTimeMillis() / 1000;
      // Deadlines two seconds apart: a check on 4-second heartbeat ticks cannot meet all three windows.
      long[] exps = {now, now + 2, now + 4}; // the first is already past its exp, within the leeway
      Future<long[]> a = closedAt(vertx, server, "ann", token(issuer, "ann", exps[0]));
      Future<long[]> b = closedAt(vertx, server, "ben", token(issuer, "ben", exps[1]));
      Future<long[]> c = closedAt(vertx, server, "cat", token(issuer, "cat", exps[2]));
      return Future.all(a, b, c).map(all -> {
        ctx.verify(() -> {
          for (int i = 0; i < 3; i++) {
            assertClosedInWindow(all.resultAt(i), (exps[i] + LEEWAY_SECONDS) * 1000, 4001, "token " + i);
          }
        });
        return null;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a token without exp is refused (invalid_token, 1008) unless auth.allowTokensWithoutExp")
  void tokensWithoutExp(Vertx vertx, VertxTestContext ctx) {
    JWTAuth issuer = issuer(vertx);
    String noExp = issuer.generateToken(new JsonObject().put("sub", "dan"), new JWTOptions().setNoTimestamp(true));
    TestServer.start(vertx, dataDir, config(false)).compose(strict ->
            WsClient.connect(vertx, strict.gatewayPort(), "/ws?device=d&token=" + noExp, true)
                .compose(c -> c.expect("error").compose(error -> c.closed().map(code -> {
                  ctx.verify(() -> {
                    assertEquals("invalid_token", error.getString("code"));
                    assertEquals((short) 1008, code);
                  });
                  return null;
                })))
                .compose(v -> strict.stop()))
        .compose(v -> TestServer.start(vertx, dataDir.resolve("lenient"), config(true)))
        .compose(lenient -> WsClient.connect(vertx, lenient.gatewayPort(), "/ws?device=d&token=" + noExp, true))
        .compose(c -> c.expect("synced"))
        .onComplete(ctx.succeedingThenComplete());
  }

  /**
   * A raw socket that completes the upgrade and then says nothing, not even pong: a dead phone.
   * Completes with when its upgrade answer and the server's close frame arrived, and the close code.
   */
  private static Future<long[]> silent(Vertx vertx, TestServer server, String token) {
    Promise<long[]> closed = Promise.promise();
    Buffer received = Buffer.buffer();
    long[] times = {0, 0, 0};
    return HeldClients.hold(vertx.createNetClient()).connect(server.gatewayPort(), "127.0.0.1").compose(socket -> {
      socket.handler(data -> {
        received.appendBuffer(data);
        long now = System.currentTimeMillis();
        int headEnd = received.toString(StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");
        if (times[0] == 0 && headEnd >= 0) {
          times[0] = now;
        }
        // Pings are 0x89 0x00; the first 0x88 after the head starts the close frame.
        for (int i = headEnd + 4; headEnd >= 0 && times[1] == 0 && i < received.length(); i++) {
          if ((received.getByte(i) & 0xFF) == 0x88 && i + 3 < received.length()) {
            times[1] = now;
            times[2] = received.getUnsignedShort(i + 2);
            closed.tryComplete(times);
            socket.close();
          }
        }
      });
      socket.closeHandler(v -> closed.tryFail("closed without a close frame: " + received));
      return socket.write("GET /ws?token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    }).compose(v -> closed.future());
  }

  @Test
  @DisplayName("a silent connection is closed gateway.idleTimeoutSeconds after it was last heard, not at a later heartbeat")
  void idleTimeoutClosesOnTime(Vertx vertx, VertxTestContext ctx) {
    JWTAuth issuer = issuer(vertx);
    TestServer.start(vertx, dataDir, config(false)).compose(server -> {
      String token = token(issuer, "zed", System.currentTimeMillis() / 1000 + 600);
      Future<long[]> first = silent(vertx, server, token);
      // Two seconds later: with 4-second heartbeat ticks, at most one of the two could close on time.
      Future<long[]> second = vertx.timer(2_000, TimeUnit.MILLISECONDS).compose(v -> silent(vertx, server, token));
      return Future.all(first, second).map(all -> {
        ctx.verify(() -> {
          for (int i = 0; i < 2; i++) {
            long[] times = all.resultAt(i);
            long lived = times[1] - times[0];
            assertEquals(4000, times[2], "close code of connection " + i);
            // The session is heard last when it starts, a moment before its upgrade answer arrives.
            assertTrue(lived >= IDLE_MILLIS - 100, "connection " + i + " closed after " + lived + " ms");
            assertTrue(lived <= IDLE_MILLIS + MARGIN_MILLIS, "connection " + i + " closed after " + lived + " ms");
          }
        });
        return null;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }
}
