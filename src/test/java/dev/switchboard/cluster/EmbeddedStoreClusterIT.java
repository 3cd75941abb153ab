package dev.switchboard.cluster;

import com.hazelcast.config.Config;
import dev.switchboard.ClusterConfig;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A clustered node refuses an embedded store, and its reason names the engine that was configured. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class EmbeddedStoreClusterIT {

  @TempDir
  Path dataDir;

  static Vertx clustered;

  /** One clustered Vert.x, alone in a cluster of its own name and ports. */
  @BeforeAll
  static void startMember() throws Exception {
    int base = 20_000 + ThreadLocalRandom.current().nextInt(400) * 100;
    Config config = ClusterConfig.load().setClusterName("embedded-it-" + base);
    config.getNetworkConfig().setPort(base).setPortAutoIncrement(true);
    config.getNetworkConfig().getJoin().getTcpIpConfig().setMembers(List.of("127.0.0.1:" + base));
    clustered = Vertx.builder().withClusterManager(new HazelcastClusterManager(config)).buildClustered()
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopMember() throws Exception {
    if (clustered != null) {
      clustered.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private Future<String> refusal(String engine) {
    JsonObject inbox = new JsonObject().put("inbox", new JsonObject().put("engine", engine)
        .put("dataDir", dataDir.resolve(engine).toString()));
    return TestServer.start(clustered, dataDir, inbox)
        .transform(started -> started.succeeded()
            ? Future.failedFuture("a clustered node started with inbox.engine=" + engine)
            : Future.succeededFuture(started.cause().getMessage()));
  }

  @Test
  @DisplayName("with inbox.engine=log or sqlite, a clustered node refuses to start and names that engine")
  void refusalNamesTheConfiguredEngine(VertxTestContext ctx) {
    refusal("log").compose(log -> refusal("sqlite").map(sqlite -> List.of(log, sqlite)))
        .onComplete(ctx.succeeding(reasons -> ctx.verify(() -> {
          assertTrue(reasons.get(0).contains("inbox.engine=log"), reasons.get(0));
          assertFalse(reasons.get(0).contains("sqlite"), reasons.get(0));
          assertTrue(reasons.get(1).contains("inbox.engine=sqlite"), reasons.get(1));
          ctx.completeNow();
        })));
  }
}
