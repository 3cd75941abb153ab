package dev.switchboard.gateway;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.GatewayLoad;
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
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A session's sends to one conversation are stored in the order they were made, even when the
 * earlier one is refused with a retryable code and retried: the refusal comes from the router
 * while a gateway reports its loop behind, as in OverloadIT.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class SendOrderIT {

  @TempDir
  Path dataDir;

  private static void report(Vertx vertx, boolean behind) {
    vertx.eventBus().publish(Addresses.ROUTER_LOAD, new GatewayLoad("gateway-test", behind, behind ? 5_000 : 0).toJson(),
        new DeliveryOptions().setLocalOnly(true));
  }

  private static Future<JsonObject> refusedWith(WsClient client, String code, String id, VertxTestContext ctx) {
    return client.expect("error").map(error -> {
      ctx.verify(() -> {
        assertEquals(code, error.getString("code"), error.encode());
        assertEquals(id, error.getString("id"), error.encode());
      });
      return error;
    });
  }

  private static Future<JsonObject> acceptedAs(WsClient client, String id, VertxTestContext ctx) {
    return client.expect("accepted").map(accepted -> {
      ctx.verify(() -> assertEquals(id, accepted.getString("id"), accepted.encode()));
      return accepted;
    });
  }

  @Test
  @DisplayName("a send to a peer made after one refused overloaded is refused the same way until that one is sent again, so the peer gets them in the order made; other peers are not held")
  void peerKeepsTypedOrder(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("bob", "phone")
        .compose(bob -> server.online("carol", "phone").compose(carol -> server.online("alice", "laptop").compose(alice -> {
          report(vertx, true);
          return alice.sendMessage("a1", "bob", "A")
              .compose(v -> refusedWith(alice, "overloaded", "a1", ctx))
              .compose(v -> {
                report(vertx, false);
                return alice.sendMessage("b1", "bob", "B");
              })
              .compose(v -> refusedWith(alice, "overloaded", "b1", ctx))
              .compose(v -> alice.sendMessage("c1", "carol", "C"))
              .compose(v -> acceptedAs(alice, "c1", ctx))
              .compose(v -> carol.expect("message"))
              .compose(v -> alice.sendMessage("a1", "bob", "A"))
              .compose(v -> alice.sendMessage("b1", "bob", "B"))
              .compose(v -> acceptedAs(alice, "a1", ctx))
              .compose(v -> acceptedAs(alice, "b1", ctx))
              .compose(v -> bob.expect("message", 2))
              .map(messages -> {
                ctx.verify(() -> {
                  assertEquals("A", messages.get(0).getString("body"));
                  assertEquals("B", messages.get(1).getString("body"));
                  assertEquals(messages.get(0).getLong("seq") + 1, messages.get(1).getLong("seq"));
                });
                return (Void) null;
              });
        })))).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a room send made after one refused overloaded is refused the same way until that one is sent again, so the room stores them in the order made")
  void roomKeepsTypedOrder(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "laptop").compose(alice -> server.online("bob", "phone")
        .compose(bob -> RoomsIT.setUp(alice, "team", List.of(bob), "bob")
            .compose(v -> {
              report(vertx, true);
              return alice.send(RoomsIT.toRoom("a1", "team", "A"));
            })
            .compose(v -> refusedWith(alice, "overloaded", "a1", ctx))
            .compose(v -> {
              report(vertx, false);
              return alice.send(RoomsIT.toRoom("b1", "team", "B"));
            })
            .compose(v -> refusedWith(alice, "overloaded", "b1", ctx))
            .compose(v -> alice.send(RoomsIT.toRoom("a1", "team", "A")))
            .compose(v -> alice.send(RoomsIT.toRoom("b1", "team", "B")))
            // the two answers and alice's own two copies, answers and copies in no fixed order between them
            .compose(v -> RoomsIT.take(alice, 4))
            .compose(atAlice -> bob.expect("message", 2).map(atBob -> {
              ctx.verify(() -> {
                assertEquals(List.of("a1", "b1"), atAlice.stream().filter(f -> "accepted".equals(f.getString("type")))
                    .map(f -> f.getString("id")).toList(), atAlice.toString());
                assertEquals(List.of("A", "B"), atBob.stream().map(f -> f.getString("body")).toList());
                assertEquals(atBob.get(0).getLong("roomSeq") + 1, atBob.get(1).getLong("roomSeq"));
              });
              return (Void) null;
            }))))).onComplete(ctx.succeedingThenComplete());
  }
}
