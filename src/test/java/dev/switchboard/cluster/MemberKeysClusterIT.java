package dev.switchboard.cluster;

import dev.switchboard.auth.ApiKeys;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.DeliveryBatch;
import dev.switchboard.bus.RecordCodec;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.metrics.ClusterView;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.support.TestCluster;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The clustered addresses that act for users, in {@code jwt} mode: a node's own address,
 * {@code switchboard.node.<id>}, which hands what it receives to that node's sessions as messages,
 * takes relays only from nodes that present {@code cluster.nodeKey}; {@code switchboard.push} only
 * requests with an API key. Two Switchboard nodes and a plain member, three clustered Vert.x
 * instances in this JVM.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class MemberKeysClusterIT {

  static final String NODE_KEY = "node-key-of-this-test";
  static final String SECRET = "test-secret-of-at-least-32-bytes-long!";
  static final String BILLING_KEY = "billing-key";

  @TempDir
  Path dataDir;
  @RegisterExtension
  final TestCluster cluster = new TestCluster("relay-it");

  private TestServer node(Vertx vertx, String name) throws Exception {
    JsonObject conf = new JsonObject()
        .put("auth", new JsonObject().put("mode", "jwt").put("jwtKey", SECRET).put("apiKeys", new JsonArray()
            .add(new JsonObject().put("name", "billing").put("sha256", ApiKeys.sha256(BILLING_KEY)))))
        .put("cluster", new JsonObject().put("nodeKey", NODE_KEY));
    return TestCluster.node(vertx, dataDir.resolve(name), conf);
  }

  @Test
  @DisplayName("in jwt mode a member without keys can neither relay nor push: relays need cluster.nodeKey, pushes an API key; a node without a node key does not start")
  void membersWithoutKeys(VertxTestContext ctx) throws Exception {
    Vertx first = cluster.member();
    Vertx second = cluster.member();
    Vertx stranger = cluster.member();
    TestServer bobsNode = node(first, "a");
    TestServer alicesNode = node(second, "b");
    RecordCodec.registerAll(stranger.eventBus());
    String target = Addresses.node(new ClusterView(first).nodeId());
    JWTAuth issuer = JWTAuth.create(first, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));

    // A clustered node in jwt mode without a node key would drop every relay: it does not start.
    Throwable refused = TestServer.start(stranger, dataDir.resolve("c"), new JsonObject()
            .put("auth", new JsonObject().put("mode", "jwt").put("jwtKey", SECRET))
            .put("inbox", new JsonObject().put("allowEmbeddedInCluster", true)))
        .toCompletionStage().toCompletableFuture().handle((started, e) -> e).get(30, TimeUnit.SECONDS);
    ctx.verify(() -> assertTrue(String.valueOf(refused).contains("cluster.nodeKey"), String.valueOf(refused)));

    Future.all(online(first, bobsNode, issuer, "bob"), online(second, alicesNode, issuer, "alice"),
        online(first, bobsNode, issuer, "carol")).compose(both -> {
      WsClient bob = both.resultAt(0);
      WsClient alice = both.resultAt(1);
      WsClient carol = both.resultAt(2);
      // The seq bob's next message will have: his session takes it as that message.
      StoredMessage forged = new StoredMessage("forged-2", 2, "alice", "bob", "forged by a member", System.currentTimeMillis());
      return alice.sendMessage("1", "bob", "first, relayed by alice's node")
          .compose(v -> bob.expect("message"))
          // The forged batch is sent before alice's second message, over the same kind of connection.
          .compose(relayed -> stranger.eventBus().sender(target).write(new DeliveryBatch(List.of(forged)))
              .compose(v -> alice.sendMessage("2", "bob", "second, relayed by alice's node"))
              .compose(v -> bob.expect("message"))
              .map(next -> List.of(relayed, next)))
          // The same member on switchboard.push: refused without an API key, stored with one. (To a
          // user with no messages yet: each node here keeps its own inboxes, and either may take it.)
          .compose(relayed -> {
            JsonObject push = new JsonObject().put("to", "carol").put("body", "from billing").put("from", "alice");
            return stranger.eventBus().request(Addresses.PUSH, push, new DeliveryOptions().setSendTimeout(10_000))
                .transform(withoutKey -> {
              ctx.verify(() -> {
                assertTrue(withoutKey.failed(), "a push without an API key was stored");
                assertEquals(ErrorCode.UNAUTHORIZED.failureCode(), ((ReplyException) withoutKey.cause()).failureCode());
              });
              return stranger.eventBus().request(Addresses.PUSH, push.copy().put("from", null),
                  new DeliveryOptions().setSendTimeout(10_000).addHeader(Addresses.API_KEY_HEADER, BILLING_KEY));
            }).compose(stored -> carol.expect("message")).map(pushed -> List.of(relayed.get(0), relayed.get(1), pushed));
          });
    }).onComplete(ctx.succeeding(received -> ctx.verify(() -> {
      assertEquals("first, relayed by alice's node", received.get(0).getString("body"));
      assertEquals("second, relayed by alice's node", received.get(1).getString("body"), received.get(1).encode());
      assertEquals("from billing", received.get(2).getString("body"));
      assertEquals("billing", received.get(2).getString("from"));
      assertEquals(Boolean.TRUE, received.get(2).getBoolean("push"));
      ctx.completeNow();
    })));
  }

  private static Future<WsClient> online(Vertx vertx, TestServer server, JWTAuth issuer, String user) {
    String token = issuer.generateToken(new JsonObject().put("sub", user), new JWTOptions().setExpiresInSeconds(600));
    return WsClient.connect(vertx, server.gatewayPort(), "/ws?device=d&token=" + token, true)
        .compose(c -> c.expect("synced").map(c));
  }
}
