package dev.switchboard.routing;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.GatewayLoad;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * While a gateway instance reports its event loop behind, the router refuses new messages with
 * {@code overloaded} and stores nothing; once it reports caught up, the same sends go through. The
 * reports are the ones a {@code LoopLag} publishes ({@code LoopLagTest} shows it sends them).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class OverloadIT {

  @TempDir
  Path dataDir;

  private static void report(Vertx vertx, boolean behind) {
    vertx.eventBus().publish(Addresses.ROUTER_LOAD, new GatewayLoad("gateway-test", behind, behind ? 5_000 : 0).toJson(),
        new DeliveryOptions().setLocalOnly(true));
  }

  @Test
  @DisplayName("a node whose gateway is behind refuses sends (error frame) and pushes (503, Retry-After), storing nothing, until it catches up")
  void refusesWhileBehind(Vertx vertx, VertxTestContext ctx) {
    JsonObject push = new JsonObject().put("to", "bob").put("body", "pushed").put("from", "shop");
    TestServer.start(vertx, dataDir).compose(server -> {
      Http http = new Http(vertx, server.pushPort());
      return server.online("bob", "phone").compose(bob -> server.online("alice", "laptop").compose(alice -> {
        report(vertx, true);
        return http.postJson("/api/v1/messages", push)
            .compose(refused -> {
              ctx.verify(() -> {
                assertEquals(503, refused.status());
                assertEquals("overloaded", refused.json().getString("error"));
                assertEquals("1", refused.headers().get("Retry-After"));
              });
              return alice.sendMessage("s1", "bob", "hello");
            })
            .compose(v -> alice.expect("error"))
            .compose(error -> {
              ctx.verify(() -> {
                assertEquals("overloaded", error.getString("code"));
                assertEquals("s1", error.getString("id"));
              });
              report(vertx, false);
              // the same id again: taken now, and the first message bob's inbox ever stored
              return alice.sendMessage("s1", "bob", "hello");
            })
            .compose(v -> alice.expect("accepted"))
            .compose(v -> bob.expect("message"))
            .compose(first -> {
              ctx.verify(() -> {
                assertEquals("hello", first.getString("body"));
                assertEquals(1L, first.getLong("seq"));
              });
              return http.postJson("/api/v1/messages", push);
            })
            .compose(accepted -> {
              ctx.verify(() -> assertEquals(202, accepted.status()));
              return bob.expect("message");
            })
            .map(second -> {
              ctx.verify(() -> {
                assertEquals("pushed", second.getString("body"));
                assertEquals(2L, second.getLong("seq"));
              });
              return (Void) null;
            });
      }));
    }).onComplete(ctx.succeedingThenComplete());
  }
}
