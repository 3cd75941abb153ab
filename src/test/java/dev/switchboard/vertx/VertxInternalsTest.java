package dev.switchboard.vertx;

import com.hazelcast.config.Config;
import dev.switchboard.ClusterConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every hook of {@link VertxInternals} against the Vert.x of the build, over real sockets and a
 * real cluster manager. A failure here means a Vert.x upgrade moved an internal the gateway relies
 * on: its message names the version and the hook to port.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class VertxInternalsTest {

  /** Vert.x closes a client that is no longer referenced: hold it for the test's length. */
  private WebSocketClient client;

  private static String broken(String hook) {
    return "Vert.x " + VertxInternals.VERSION + " broke VertxInternals." + hook
        + ": port that hook to this version (see the class's Javadoc for what it is for)";
  }

  @Test
  @DisplayName("the Vert.x version is read from its jar")
  void version() {
    assertFalse(VertxInternals.VERSION.equals("unknown"), "META-INF/vertx/vertx-version.txt is gone from vertx-core");
  }

  @Test
  @DisplayName("on a real connection: the new connection's pipeline (with Vert.x's compression extension handler), the "
      + "accepted WebSocket's handler context, the direct write queue, and a text frame from bytes all work")
  void socketHooks(Vertx vertx, VertxTestContext ctx) {
    assertTrue(VertxInternals.connectionPipelineAvailable(), broken("connectionPipelineAvailable"));
    Checkpoint connected = ctx.checkpoint();
    Checkpoint received = ctx.checkpoint();
    String text = "héllo, wörld";
    vertx.createHttpServer(new HttpServerOptions().setStrictThreadMode(true).setHost("127.0.0.1")
            .setPerMessageWebSocketCompressionSupported(true))
        .connectionHandler(connection -> ctx.verify(() -> {
          ChannelPipeline pipeline = VertxInternals.pipeline(connection);
          assertNotNull(pipeline, broken("pipeline(HttpConnection)"));
          assertNotNull(pipeline.get(WebSocketServerExtensionHandler.class),
              broken("pipeline(HttpConnection)") + " (no WebSocket extension handler to bound)");
          connected.flag();
        }))
        .requestHandler(request -> request.response().setStatusCode(404).end())
        .webSocketHandshakeHandler(handshake -> handshake.accept().onSuccess(socket -> ctx.verify(() -> {
          ChannelHandlerContext context = VertxInternals.handlerContext(socket);
          assertNotNull(context, broken("handlerContext(ServerWebSocket)"));
          assertSame(context.handler(), context.pipeline().context(context.name()).handler(),
              broken("handlerContext(ServerWebSocket)") + " (context not in the pipeline)");
          assertTrue(VertxInternals.useDirectWriteQueue(socket), broken("useDirectWriteQueue"));
          assertTrue(VertxInternals.hasDirectWriteQueue(socket), broken("hasDirectWriteQueue"));
          socket.writeFrame(VertxInternals.textFrame(text.getBytes(StandardCharsets.UTF_8)))
              .onFailure(ctx::failNow);
        })))
        .listen(0)
        .onComplete(ctx.succeeding(server -> {
          client = vertx.createWebSocketClient();
          client.connect(server.actualPort(), "127.0.0.1", "/").onComplete(ctx.succeeding(ws ->
              ws.textMessageHandler(message -> ctx.verify(() -> {
                assertEquals(text, message, broken("textFrame(byte[])"));
                received.flag();
              }))));
        }));
  }

  @Test
  @DisplayName("the cluster manager: none for a plain Vert.x, the one it was built with for a clustered one")
  void clusterManager(Vertx vertx, VertxTestContext ctx) {
    assertNull(VertxInternals.clusterManager(vertx));
    int base = 20_000 + ThreadLocalRandom.current().nextInt(400) * 100;
    Config config = ClusterConfig.load().setClusterName("internals-test-" + base);
    config.getNetworkConfig().setPort(base).setPortAutoIncrement(true);
    config.getNetworkConfig().getJoin().getTcpIpConfig().setMembers(List.of("127.0.0.1:" + base));
    HazelcastClusterManager manager = new HazelcastClusterManager(config);
    Vertx.builder().withClusterManager(manager).buildClustered().onComplete(ctx.succeeding(clustered -> {
      ctx.verify(() -> {
        ClusterManager found = VertxInternals.clusterManager(clustered);
        assertSame(manager, found, broken("clusterManager(Vertx)"));
      });
      clustered.close().onComplete(ctx.succeedingThenComplete());
    }));
  }
}
