package dev.switchboard.storage;

import dev.switchboard.bus.Addresses;
import dev.switchboard.support.Http;
import dev.switchboard.support.PostgresProxy;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The whole server on two PostgreSQL shards, through WebSockets. With two shards bob and carol
 * live on shard 0, alice and dave on shard 1 ({@link ShardMapTest}).
 */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ShardsIT {

  @TempDir
  Path firstDir;

  @TempDir
  Path secondDir;

  private static JsonObject onShards(String... uris) {
    return new JsonObject().put("inbox", new JsonObject().put("engine", "postgres")
        .put("postgresUris", new JsonArray(List.of((Object[]) uris))).put("postgresPoolSize", 2));
  }

  @Test
  @DisplayName("users on both shards exchange messages, a push reaches recipients on both, and a new server "
      + "with an empty data dir reads each inbox back from its shard")
  void usersOnBothShards(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) {
    JsonObject shards = onShards(postgres.createDatabase(), postgres.createDatabase());
    JsonObject push = new JsonObject().put("from", "ops").put("to", new JsonArray(List.of("bob", "dave")))
        .put("body", "to both shards");
    TestServer.start(vertx, firstDir, shards)
        .compose(first -> Future.all(first.online("bob", "phone"), first.online("dave", "phone"))
            .compose(both -> {
              WsClient bob = both.resultAt(0);
              WsClient dave = both.resultAt(1);
              return bob.sendMessage("b1", "dave", "bob to dave")
                  .compose(v -> bob.expect("accepted"))
                  .compose(v -> dave.expect("message"))
                  .compose(v -> dave.sendMessage("d1", "bob", "dave to bob"))
                  .compose(v -> dave.expect("accepted"))
                  .compose(v -> bob.expect("message"))
                  .compose(v -> vertx.eventBus().request(Addresses.PUSH, push))
                  .compose(v -> Future.all(bob.expect("message"), dave.expect("message")))
                  .compose(v -> Future.all(bob.close(), dave.close()));
            })
            .compose(v -> first.stop()))
        .compose(v -> TestServer.start(vertx, secondDir, shards))
        .compose(second -> Future.all(second.json("bob", "tablet").compose(c -> c.expect("message", 2)),
            second.json("dave", "tablet").compose(c -> c.expect("message", 2))))
        .onComplete(ctx.succeeding(read -> ctx.verify(() -> {
          List<JsonObject> bob = read.resultAt(0);
          List<JsonObject> dave = read.resultAt(1);
          assertEquals(List.of("dave to bob", "to both shards"), bob.stream().map(m -> m.getString("body")).toList());
          assertEquals(List.of("bob to dave", "to both shards"), dave.stream().map(m -> m.getString("body")).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("with one shard down, sends to and from its users are refused with unavailable while the other "
      + "shard's users go on and the node stays ready; once it is back, the same send is accepted and delivered")
  void oneShardDown(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    PostgresProxy shard0 = PostgresProxy.start(vertx, postgres.createDatabase()).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    JsonObject shards = onShards(shard0.uri(), postgres.createDatabase());
    shards.getJsonObject("inbox").put("postgresShardTimeoutMillis", 300);
    Http[] http = new Http[1];
    TestServer.start(vertx, firstDir, shards)
        .compose(server -> {
          http[0] = new Http(vertx, server.pushPort());
          return Future.all(server.online("alice", "phone"), server.online("bob", "phone"), server.online("dave", "phone"));
        })
        .compose(clients -> {
          WsClient alice = clients.resultAt(0);
          WsClient bob = clients.resultAt(1);
          WsClient dave = clients.resultAt(2);
          return shard0.down()
              .compose(v -> alice.sendMessage("a1", "bob", "to the lost shard"))
              .compose(v -> alice.expect("error"))
              .compose(toLost -> bob.sendMessage("b1", "dave", "from the lost shard").compose(v -> bob.expect("error"))
                  .map(fromLost -> List.of(toLost, fromLost)))
              .compose(errors -> {
                ctx.verify(() -> {
                  assertEquals("unavailable", errors.get(0).getString("code"));
                  assertEquals("a1", errors.get(0).getString("id"));
                  assertEquals("unavailable", errors.get(1).getString("code"));
                });
                return alice.sendMessage("a2", "dave", "same shard goes on");
              })
              .compose(v -> Future.all(alice.expect("accepted"), dave.expect("message")))
              .compose(v -> http[0].get("/health/ready"))
              .compose(ready -> {
                ctx.verify(() -> assertEquals(200, ready.status(), "a node with one shard lost left service: "
                    + ready.body()));
                return shard0.up();
              })
              .compose(v -> untilAccepted(vertx, alice, "a1", "bob", "to the lost shard"))
              .compose(v -> Future.all(Future.succeededFuture(), bob.expect("message")));
        })
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          JsonObject delivered = done.resultAt(1);
          assertEquals("to the lost shard", delivered.getString("body"));
          assertEquals(1L, delivered.getLong("seq"));
          ctx.completeNow();
        })));
  }

  /** Sends as a client retrying with the same id does, every 100 ms, until the send is accepted. */
  private static Future<JsonObject> untilAccepted(Vertx vertx, WsClient client, String id, String to, String body) {
    return client.sendMessage(id, to, body).compose(v -> client.nextJson()).compose(answer -> {
      if ("accepted".equals(answer.getString("type"))) {
        return Future.succeededFuture(answer);
      }
      if (!"unavailable".equals(answer.getString("code"))) {
        return Future.failedFuture(new AssertionError("unexpected answer " + answer));
      }
      return vertx.timer(100).compose(x -> untilAccepted(vertx, client, id, to, body));
    });
  }
}
