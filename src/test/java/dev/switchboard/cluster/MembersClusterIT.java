package dev.switchboard.cluster;

import dev.switchboard.metrics.ClusterView;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestCluster;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin members list on a real two-node cluster (two clustered Vert.x in this JVM, each running
 * Switchboard on its own embedded log): after real connects on each node, either node's
 * {@code GET /api/v1/admin/nodes} names both members with the sessions each holds, and a member
 * that runs no Switchboard is listed as unreachable rather than failing the request.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class MembersClusterIT {

  @TempDir
  Path dataDir;
  @RegisterExtension
  final TestCluster cluster = new TestCluster("members-it");
  final List<WsClient> clients = new ArrayList<>();

  @AfterEach
  void closeClients() throws Exception {
    for (WsClient client : clients) {
      client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private Future<WsClient> online(TestServer server, String user) {
    return server.online(user, "phone").onSuccess(clients::add);
  }

  @Test
  @DisplayName("each node lists both members with their addresses and sessions (1 and 2), itself first; a bare member is unreachable")
  void membersWithSessions(VertxTestContext ctx) throws Exception {
    Vertx a = cluster.member();
    Vertx b = cluster.member();
    Vertx bare = cluster.member();
    TestServer nodeA = TestCluster.node(a, dataDir.resolve("a"), new JsonObject());
    TestServer nodeB = TestCluster.node(b, dataDir.resolve("b"), new JsonObject());
    String idA = new ClusterView(a).nodeId();
    String idB = new ClusterView(b).nodeId();
    String idBare = new ClusterView(bare).nodeId();
    Http httpA = new Http(a, nodeA.pushPort());
    Http httpB = new Http(b, nodeB.pushPort());
    Predicate<JsonObject> settled = list -> list.getLong("sessions") == 3 && list.getJsonArray("nodes").size() == 3;
    online(nodeA, "ann")
        .compose(v -> online(nodeB, "ben"))
        .compose(v -> online(nodeB, "bea"))
        .compose(v -> until(a, httpA, settled, 50))
        .compose(fromA -> until(b, httpB, settled, 50).map(fromB -> List.of(fromA, fromB)))
        .onComplete(ctx.succeeding(lists -> ctx.verify(() -> {
          JsonArray fromA = lists.get(0).getJsonArray("nodes");
          JsonArray fromB = lists.get(1).getJsonArray("nodes");
          assertMember(fromA.getJsonObject(0), idA, true, 1);
          assertMember(find(fromA, idB), idB, false, 2);
          assertMember(fromB.getJsonObject(0), idB, true, 2);
          assertMember(find(fromB, idA), idA, false, 1);
          JsonObject unreachable = find(fromA, idBare);
          assertFalse(unreachable.getBoolean("reachable"), unreachable.encode());
          assertTrue(unreachable.containsKey("sessions") && unreachable.getValue("sessions") == null, unreachable.encode());
          ctx.completeNow();
        })));
  }

  private static void assertMember(JsonObject member, String id, boolean self, int sessions) {
    assertEquals(id, member.getString("node"), member.encode());
    assertEquals(self, member.getBoolean("self"), member.encode());
    assertTrue(member.getBoolean("reachable"), member.encode());
    assertEquals(sessions, member.getInteger("sessions"), member.encode());
    assertNotNull(member.getString("address"), member.encode());
    assertTrue(member.getString("address").matches(".+:\\d+"), member.encode());
  }

  private static JsonObject find(JsonArray nodes, String id) {
    for (int i = 0; i < nodes.size(); i++) {
      if (id.equals(nodes.getJsonObject(i).getString("node"))) {
        return nodes.getJsonObject(i);
      }
    }
    throw new AssertionError(id + " not listed in " + nodes.encode());
  }

  /**
   * Asks for the list until it shows what {@code settled} expects, within a bounded number of
   * attempts: a node's status consumer reaches the other member's event bus with no event to await.
   */
  private static Future<JsonObject> until(Vertx vertx, Http http, Predicate<JsonObject> settled, int attempts) {
    return http.get("/api/v1/admin/nodes").compose(response -> {
      if (response.status() != 200) {
        return Future.failedFuture("GET /api/v1/admin/nodes answered " + response.status() + ": " + response.body());
      }
      JsonObject list = response.json();
      if (settled.test(list)) {
        return Future.succeededFuture(list);
      }
      if (attempts == 0) {
        return Future.failedFuture("the members list never settled: " + list.encode());
      }
      return vertx.timer(100, TimeUnit.MILLISECONDS).compose(v -> until(vertx, http, settled, attempts - 1));
    });
  }
}
