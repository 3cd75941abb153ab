package dev.switchboard.push;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import dev.switchboard.ClusterConfig;
import dev.switchboard.bus.Addresses;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A node answers an HTTP push with its own router, even though every node's router consumes the
 * clustered {@code switchboard.push}: otherwise the event bus hands some HTTP pushes to another
 * node, and right after that node dies (before the cluster drops its registration) they are lost
 * and answered 503 after the request timeout. Two clustered Vert.x instances in this JVM: a
 * Switchboard node, and a member that only consumes {@code switchboard.push} and counts.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class LocalPushClusterIT {

  @TempDir
  Path dataDir;
  final List<Vertx> members = new ArrayList<>();

  /** The production Hazelcast config, on a port range and cluster name of this test's own. */
  private static Config clusterConfig(int base) {
    Config config = ClusterConfig.load().setClusterName("push-it-" + base);
    config.getNetworkConfig().setPort(base).setPortAutoIncrement(true);
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getTcpIpConfig().setMembers(IntStream.range(base, base + 4).mapToObj(p -> "127.0.0.1:" + p)
        .collect(Collectors.toList()));
    return config;
  }

  /** A clustered Vert.x, started from the test thread (not from another instance's context). */
  private Vertx member(int base) throws Exception {
    Vertx member = Vertx.builder().withClusterManager(new HazelcastClusterManager(clusterConfig(base))).buildClustered()
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    members.add(member);
    return member;
  }

  @AfterEach
  void stop() throws Exception {
    for (Vertx member : members) {
      member.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  @DisplayName("HTTP pushes are routed by the node that received them, never by another node's router")
  void httpPushStaysOnItsNode(VertxTestContext ctx) throws Exception {
    int base = 20_000 + ThreadLocalRandom.current().nextInt(400) * 100;
    Vertx node = member(base);
    Vertx other = member(base);
    TestServer server = TestServer.start(node, dataDir, new JsonObject()
            .put("inbox", new JsonObject().put("allowEmbeddedInCluster", true)))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Http http = new Http(node, server.pushPort());
    AtomicInteger elsewhere = new AtomicInteger();
    JsonObject push = new JsonObject().put("to", "dora").put("body", "hello");
    other.eventBus().<JsonObject>consumer(Addresses.PUSH, message -> {
          elsewhere.incrementAndGet();
          message.fail(500, "the other member's router");
        }).completion()
        // The node's event bus knows the other member's consumer once a plain request reaches it.
        .compose(v -> untilElsewhere(node, push, elsewhere, 50))
        .compose(v -> {
          elsewhere.set(0);
          List<Future<Http.Response>> pushes = new ArrayList<>();
          for (int i = 0; i < 10; i++) {
            pushes.add(http.postJson("/api/v1/messages", push));
          }
          return Future.all(pushes).map(all -> all.<Http.Response>list());
        })
        .onComplete(ctx.succeeding(responses -> ctx.verify(() -> {
          for (Http.Response response : responses) {
            assertEquals(202, response.status(), response.body().toString());
          }
          assertEquals(0, elsewhere.get(), "HTTP pushes routed by the other member");
          ctx.completeNow();
        })));
  }

  /**
   * Requests {@code switchboard.push} from the node (not local-only) until one lands on the other member.
   * Polled, within a bounded number of attempts: the cluster reports no event when a member's
   * subscription reaches another member's event bus.
   */
  private static Future<Void> untilElsewhere(Vertx node, JsonObject push, AtomicInteger elsewhere, int attempts) {
    return node.eventBus().request(Addresses.PUSH, push).<Void>mapEmpty().recover(e -> Future.succeededFuture())
        .compose(v -> {
          if (elsewhere.get() > 0) {
            return Future.succeededFuture();
          }
          if (attempts == 0) {
            return Future.failedFuture("the node never saw the other member's consumer");
          }
          return node.timer(100, TimeUnit.MILLISECONDS).compose(w -> untilElsewhere(node, push, elsewhere, attempts - 1));
        });
  }
}
