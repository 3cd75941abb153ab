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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** {@code gateway.port} 0 picks one free port, and every gateway instance listens on it. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SharedPortIT {

  @TempDir
  Path dataDir;

  private static final JsonObject THREE_GATEWAYS = new JsonObject()
      .put("gateway", new JsonObject().put("port", 0).put("instances", 3));

  @Test
  @DisplayName("with port 0 and three gateway instances, all three listen on the one port the server reports")
  void instancesShareOnePort(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir.resolve("a"), THREE_GATEWAYS).compose(server ->
            // One client per instance: Vert.x hands the connections of a shared port to its servers in turn.
            connectAll(vertx, server.gatewayPort(), 3).map(clients -> server))
        .onComplete(ctx.succeeding(server -> ctx.verify(() -> {
          assertEquals(List.of(server.gatewayPort(), server.gatewayPort(), server.gatewayPort()),
              server.verticle.gatewayPorts());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("two servers in one Vert.x, both with port 0, each get a port of their own")
  void deploymentsDoNotShare(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir.resolve("a"), THREE_GATEWAYS).compose(first ->
            TestServer.start(vertx, dataDir.resolve("b"), THREE_GATEWAYS).map(second -> List.of(first, second)))
        .onComplete(ctx.succeeding(servers -> ctx.verify(() -> {
          assertNotEquals(servers.get(0).gatewayPort(), servers.get(1).gatewayPort());
          for (TestServer server : servers) {
            assertEquals(List.of(server.gatewayPort(), server.gatewayPort(), server.gatewayPort()),
                server.verticle.gatewayPorts());
          }
          ctx.completeNow();
        })));
  }

  private static Future<List<WsClient>> connectAll(Vertx vertx, int port, int count) {
    List<Future<WsClient>> clients = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      clients.add(WsClient.connect(vertx, port, "/ws?user=u" + i + "&device=d", true)
          .compose(client -> client.expect("synced").map(client)));
    }
    return Future.all(clients).map(all -> all.list());
  }
}
