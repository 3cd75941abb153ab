package dev.switchboard.gateway;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.AppendBatch;
import dev.switchboard.bus.GatewayLoad;
import dev.switchboard.support.TestServer;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryContext;
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
 * earlier one is refused with a retryable code and retried. The refusal comes from the router
 * while a gateway reports its loop behind, as in OverloadIT, or from the store's hop: the router's
 * append request holding the first send is kept back on the bus and then answered with the failure
 * a failed store write gets, while the real store takes every other request.
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

  @Test
  @DisplayName("a send written behind one that the store then fails (unavailable) is not stored ahead of it: it is refused the same way, and both go in order when sent again")
  void sendBehindAStoreFailureWaits(Vertx vertx, VertxTestContext ctx) {
    Promise<DeliveryContext<Object>> heldBack = Promise.promise();
    Handler<DeliveryContext<Object>> seam = delivery -> {
      if (Addresses.INBOX_APPEND.equals(delivery.message().address()) && delivery.body() instanceof AppendBatch batch
          && batch.appends().stream().anyMatch(a -> "A".equals(a.body())) && !heldBack.future().isComplete()) {
        heldBack.complete(delivery);
      } else {
        delivery.next();
      }
    };
    vertx.eventBus().addOutboundInterceptor(seam);
    TestServer.start(vertx, dataDir).compose(server -> server.online("bob", "phone").compose(bob -> server.online("alice", "laptop")
        .compose(alice -> alice.sendMessage("a1", "bob", "A")
            .compose(v -> heldBack.future())
            .compose(appendOfA -> alice.sendMessage("b1", "bob", "B")
                // the pong comes once the gateway has read B, before A is answered
                .compose(v -> alice.send(new JsonObject().put("type", "ping")))
                .compose(v -> alice.expect("pong"))
                .map(v -> {
                  appendOfA.message().fail(ErrorCode.UNAVAILABLE.failureCode(), "inbox write failed");
                  return (Void) null;
                }))
            .compose(v -> refusedWith(alice, "unavailable", "a1", ctx))
            .compose(v -> refusedWith(alice, "unavailable", "b1", ctx))
            .compose(v -> alice.sendMessage("a1", "bob", "A"))
            .compose(v -> alice.sendMessage("b1", "bob", "B"))
            .compose(v -> acceptedAs(alice, "a1", ctx))
            .compose(v -> acceptedAs(alice, "b1", ctx))
            .compose(v -> bob.expect("message", 2))
            .map(messages -> {
              ctx.verify(() -> assertEquals(List.of("A", "B"), messages.stream().map(m -> m.getString("body")).toList()));
              vertx.eventBus().removeOutboundInterceptor(seam);
              return (Void) null;
            })))).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("limits.maxHeldSends: a send beyond the sends a connection may hold behind earlier ones is refused overloaded, and goes after them when sent again")
  void heldSendsAreBounded(Vertx vertx, VertxTestContext ctx) {
    Promise<DeliveryContext<Object>> heldBack = Promise.promise();
    Handler<DeliveryContext<Object>> seam = delivery -> {
      if (Addresses.INBOX_APPEND.equals(delivery.message().address()) && delivery.body() instanceof AppendBatch batch
          && batch.appends().stream().anyMatch(a -> "A".equals(a.body())) && !heldBack.future().isComplete()) {
        heldBack.complete(delivery);
      } else {
        delivery.next();
      }
    };
    vertx.eventBus().addOutboundInterceptor(seam);
    JsonObject overrides = new JsonObject().put("limits", new JsonObject().put("maxHeldSends", 1));
    TestServer.start(vertx, dataDir, overrides).compose(server -> server.online("bob", "phone").compose(bob -> server.online("alice", "laptop")
        .compose(alice -> alice.sendMessage("a1", "bob", "A")
            .compose(v -> heldBack.future())
            .compose(appendOfA -> alice.sendMessage("b1", "bob", "B")
                .compose(v -> alice.sendMessage("c1", "bob", "C"))
                .compose(v -> refusedWith(alice, "overloaded", "c1", ctx))
                .map(v -> {
                  appendOfA.next(); // A reaches the store now; B was held behind it
                  return (Void) null;
                }))
            .compose(v -> acceptedAs(alice, "a1", ctx))
            .compose(v -> acceptedAs(alice, "b1", ctx))
            .compose(v -> alice.sendMessage("c1", "bob", "C"))
            .compose(v -> acceptedAs(alice, "c1", ctx))
            .compose(v -> bob.expect("message", 3))
            .map(messages -> {
              ctx.verify(() -> assertEquals(List.of("A", "B", "C"), messages.stream().map(m -> m.getString("body")).toList()));
              vertx.eventBus().removeOutboundInterceptor(seam);
              return (Void) null;
            })))).onComplete(ctx.succeedingThenComplete());
  }
}
