package dev.switchboard.cluster;

import dev.switchboard.support.TestCluster;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A clustered node refuses an embedded store, and its reason names the engine that was configured. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class EmbeddedStoreClusterIT {

  @TempDir
  Path dataDir;

  @RegisterExtension
  final TestCluster cluster = new TestCluster("embedded-it", 1);

  private Future<String> refusal(Vertx clustered, String engine) {
    JsonObject inbox = new JsonObject().put("inbox", new JsonObject().put("engine", engine)
        .put("dataDir", dataDir.resolve(engine).toString()));
    return TestServer.start(clustered, dataDir, inbox)
        .transform(started -> started.succeeded()
            ? Future.failedFuture("a clustered node started with inbox.engine=" + engine)
            : Future.succeededFuture(started.cause().getMessage()));
  }

  @Test
  @DisplayName("with inbox.engine=log, a clustered node refuses to start and names that engine and the shared one")
  void refusalNamesTheConfiguredEngine(VertxTestContext ctx) throws Exception {
    refusal(cluster.member(), "log")
        .onComplete(ctx.succeeding(reason -> ctx.verify(() -> {
          assertTrue(reason.contains("inbox.engine=log"), reason);
          assertTrue(reason.contains("inbox.engine=postgres"), reason);
          ctx.completeNow();
        })));
  }
}
