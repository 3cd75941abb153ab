package dev.switchboard.push;

import dev.switchboard.bus.Addresses;
import dev.switchboard.support.Http;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
  @RegisterExtension
  final TestCluster cluster = new TestCluster("push-it");

  @Test
  @DisplayName("HTTP pushes are routed by the node that received them, never by another node's router")
  void httpPushStaysOnItsNode(VertxTestContext ctx) throws Exception {
    Vertx node = cluster.member();
    Vertx other = cluster.member();
    TestServer server = TestCluster.node(node, dataDir, new JsonObject());
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
