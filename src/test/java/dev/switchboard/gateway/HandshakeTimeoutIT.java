package dev.switchboard.gateway;

import dev.switchboard.support.SlowClient;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gateway.handshakeTimeoutSeconds} (1 s here): a connection that has not delivered its first
 * request in time is closed, whether it sends nothing or dribbles bytes; one whose request arrived
 * is not.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class HandshakeTimeoutIT {

  static final long TIMEOUT_MILLIS = 1000;
  /** How late the close may come: timer granularity and a busy machine. */
  static final long MARGIN_MILLIS = 1500;
  static final String START = "GET /ws?user=slow HTT";
  static final String REST = "P/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";

  @TempDir
  Path dataDir;
  TestServer server;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    JsonObject fastDeadline = new JsonObject().put("gateway", new JsonObject().put("handshakeTimeoutSeconds", 1));
    TestServer.start(vertx, dataDir, fastDeadline).onComplete(ctx.succeeding(s -> {
      server = s;
      ctx.completeNow();
    }));
  }

  /** A partial request line, then one more byte every 300 ms: never idle, never finished. */
  static Future<SlowClient.Closed> slowloris(Vertx vertx, int port) {
    return SlowClient.dribble(vertx, new NetClientOptions(), port, START, REST, 300, TIMEOUT_MILLIS + MARGIN_MILLIS);
  }

  static void assertClosedAtDeadline(SlowClient.Closed closed) {
    assertTrue(closed.afterMillis() >= TIMEOUT_MILLIS - 100, "closed after " + closed.afterMillis() + " ms, before the deadline");
    assertTrue(closed.afterMillis() <= TIMEOUT_MILLIS + MARGIN_MILLIS, "closed after " + closed.afterMillis() + " ms");
    assertEquals(0, closed.received().length(), "closed without an answer, got: " + closed.received());
  }


  @Test
  @DisplayName("a client that dribbles its upgrade request a byte every 300 ms is closed at the handshake timeout")
  void slowRequestIsClosed(Vertx vertx, VertxTestContext ctx) {
    slowloris(vertx, server.gatewayPort()).onComplete(ctx.succeeding(closed -> ctx.verify(() -> {
      assertClosedAtDeadline(closed);
      assertTrue(closed.bytesSent() >= START.length() + 2, "kept sending, " + closed.bytesSent() + " bytes");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a client that connects and sends nothing is closed at the handshake timeout")
  void silentConnectionIsClosed(Vertx vertx, VertxTestContext ctx) {
    SlowClient.silent(vertx, server.gatewayPort(), TIMEOUT_MILLIS + MARGIN_MILLIS)
        .onComplete(ctx.succeeding(closed -> ctx.verify(() -> {
          assertClosedAtDeadline(closed);
          assertEquals(0, closed.bytesSent());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("WebSockets whose handshake completed stay open past twice the deadline, and newcomers still connect")
  void establishedWebSocketsOutliveTheDeadline(Vertx vertx, VertxTestContext ctx) {
    Future<WsClient> alice = server.online("alice", "laptop");
    Future<WsClient> bob = server.online("bob", "phone");
    Future<SlowClient.Closed> slow = slowloris(vertx, server.gatewayPort());
    Future<Void> pastDeadline = Future.all(alice, bob).compose(pair -> vertx.timer(2 * TIMEOUT_MILLIS + 500, TimeUnit.MILLISECONDS));
    Future.all(slow, pastDeadline).compose(v -> {
      ctx.verify(() -> {
        assertClosedAtDeadline(slow.result());
        assertFalse(alice.result().socket().isClosed(), "alice's socket was closed");
        assertFalse(bob.result().socket().isClosed(), "bob's socket was closed");
      });
      return alice.result().sendMessage("m1", "bob", "still here")
          .compose(sent -> alice.result().expect("accepted"))
          .compose(accepted -> bob.result().expect("message"));
    }).compose(message -> {
      ctx.verify(() -> assertEquals("still here", message.getString("body")));
      return server.online("carol", "tablet");
    }).compose(carol -> carol.sendMessage("m2", "alice", "hello from a newcomer")
        .compose(sent -> carol.expect("accepted"))
        .compose(accepted -> alice.result().expect("message"))
    ).onComplete(ctx.succeeding(message -> ctx.verify(() -> {
      assertEquals("hello from a newcomer", message.getString("body"));
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("with three gateway instances, each closes its own slow connections and keeps its WebSockets")
  void severalInstances(Vertx vertx, VertxTestContext ctx) {
    int users = 6;
    JsonObject threeInstances = new JsonObject().put("gateway",
        new JsonObject().put("handshakeTimeoutSeconds", 1).put("instances", 3));
    TestServer.start(vertx, dataDir.resolve("three"), threeInstances).compose(three -> {
      List<Future<WsClient>> clients = new ArrayList<>();
      for (int i = 0; i < users; i++) {
        clients.add(three.online("u" + i, "d"));
      }
      List<Future<SlowClient.Closed>> slow = new ArrayList<>();
      for (int i = 0; i < users; i++) {
        slow.add(slowloris(vertx, three.gatewayPort()));
        slow.add(SlowClient.silent(vertx, three.gatewayPort(), TIMEOUT_MILLIS + MARGIN_MILLIS));
      }
      Future<Void> pastDeadline = Future.all(clients).compose(all -> vertx.timer(2 * TIMEOUT_MILLIS + 500, TimeUnit.MILLISECONDS));
      return Future.all(Future.all(slow), pastDeadline).compose(v -> {
        ctx.verify(() -> slow.forEach(closed -> assertClosedAtDeadline(closed.result())));
        // Each sends to the next; each then has two frames, its accepted and its neighbour's message, in either order.
        List<Future<JsonObject>> received = new ArrayList<>();
        for (int i = 0; i < users; i++) {
          WsClient client = clients.get(i).result();
          received.add(client.sendMessage("m" + i, "u" + ((i + 1) % users), "from u" + i)
              .compose(sent -> client.nextJson())
              .compose(first -> client.nextJson().map(second -> "message".equals(first.getString("type")) ? first : second)));
        }
        return Future.all(received);
      });
    }).onComplete(ctx.succeeding(all -> ctx.verify(() -> {
      for (int i = 0; i < users; i++) {
        JsonObject message = all.resultAt(i);
        assertEquals("message", message.getString("type"), message.encode());
        assertEquals("from u" + ((i + users - 1) % users), message.getString("body"));
      }
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a keep-alive HTTP connection that made its request is not closed by the deadline")
  void keepAliveHttpOutlivesTheDeadline(Vertx vertx, VertxTestContext ctx) {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAliveTimeout(60),
        new PoolOptions().setHttp1MaxSize(1));
    get(client, "/index.html")
        .compose(one -> vertx.timer(2 * TIMEOUT_MILLIS + 500, TimeUnit.MILLISECONDS)
            .compose(v -> get(client, "/index.html"))
            .map(two -> List.of(one.get(0), one.get(1), two.get(0), two.get(1))))
        .eventually(client::close)
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          assertEquals(200, both.get(0));
          assertEquals(200, both.get(2));
          // Had the server closed the connection, the pool would have opened another, from another port.
          assertEquals(both.get(1), both.get(3), "the second request went over the same connection");
          ctx.completeNow();
        })));
  }

  /** Status, and the client's local port (which names the TCP connection). */
  private Future<List<Integer>> get(HttpClient client, String path) {
    return client.request(HttpMethod.GET, server.gatewayPort(), "127.0.0.1", path)
        .compose(req -> req.send().compose(resp -> resp.body()
            .map(body -> List.of(resp.statusCode(), req.connection().localAddress().port()))));
  }
}
