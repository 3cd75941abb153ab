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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Ephemeral signals over real sockets: live sessions only, never stored, limited in size and rate. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SignalsIT {

  @TempDir
  Path dataDir;

  static JsonObject typing(String to, JsonObject data) {
    JsonObject frame = new JsonObject().put("type", "signal").put("to", to).put("kind", "typing");
    return data == null ? frame : frame.put("data", data);
  }

  /** A ping's pong is the next frame: nothing else (no answer, no error) came before it. */
  static Future<Void> nothingBeforePong(WsClient client) {
    return client.send(new JsonObject().put("type", "ping")).compose(v -> client.expect("pong")).mapEmpty();
  }

  @Test
  @DisplayName("a signal reaches every live session of its recipient, is not answered, and is not stored")
  void signalReachesEverySessionAndIsNotStored(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("bob", "phone")
        .compose(phone -> server.online("bob", "laptop")
            .compose(laptop -> server.online("alice", "web")
                .compose(alice -> alice.send(typing("bob", new JsonObject().put("state", "on")))
                    .compose(v -> nothingBeforePong(alice)))
                .compose(v -> phone.expect("signal"))
                .compose(atPhone -> laptop.expect("signal").map(atLaptop -> {
                  ctx.verify(() -> {
                    assertEquals(new JsonObject("{\"type\":\"signal\",\"from\":\"alice\",\"kind\":\"typing\","
                        + "\"data\":{\"state\":\"on\"}}"), atPhone);
                    assertEquals(atPhone, atLaptop);
                  });
                  return null;
                })))
            .compose(v -> phone.close()))
        // Not stored: a new connection of bob has an empty inbox, and nothing but the pong follows.
        .compose(v -> server.json("bob", "phone"))
        .compose(again -> again.expect("synced").compose(synced -> {
          ctx.verify(() -> assertEquals(0L, synced.getLong("seq")));
          return nothingBeforePong(again);
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a signal to a user without sessions is dropped without an error")
  void signalToOfflineUserIsDropped(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "web")
        .compose(alice -> alice.send(typing("carol", null)).compose(v -> nothingBeforePong(alice)))
        .compose(v -> server.json("carol", "phone"))
        .compose(carol -> carol.expect("synced").compose(synced -> nothingBeforePong(carol))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("signals over limits.signalsPerSecond are dropped, with one rate_limited error until one passes again")
  void signalsOverTheRateAreDroppedWithOneError(Vertx vertx, VertxTestContext ctx) {
    JsonObject limits = new JsonObject().put("limits", new JsonObject().put("signalsPerSecond", 2));
    TestServer.start(vertx, dataDir, limits).compose(server -> server.online("bob", "phone")
        .compose(bob -> server.online("alice", "web").compose(alice -> {
          Future<Void> burst = Future.succeededFuture();
          for (int i = 0; i < 6; i++) {
            JsonObject frame = typing("bob", new JsonObject().put("n", i));
            burst = burst.compose(v -> alice.send(frame));
          }
          return burst
              .compose(v -> alice.expect("error"))
              .compose(error -> {
                ctx.verify(() -> {
                  assertEquals("rate_limited", error.getString("code"));
                  assertNull(error.getString("id"));
                });
                return nothingBeforePong(alice);
              })
              // A message sent after the burst is stored and delivered after the signals reached bob.
              .compose(v -> alice.sendMessage("m1", "bob", "after the burst"))
              .compose(v -> bob.expect("signal", 2))
              .compose(signals -> bob.expect("message").map(message -> {
                ctx.verify(() -> assertEquals(List.of(0, 1),
                    signals.stream().map(s -> s.getJsonObject("data").getInteger("n")).toList()));
                return null;
              }));
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a signal larger than limits.maxSignalBytes is refused with too_large, and the connection goes on")
  void oversizedSignalIsRefused(Vertx vertx, VertxTestContext ctx) {
    JsonObject limits = new JsonObject().put("limits", new JsonObject().put("maxSignalBytes", 64));
    TestServer.start(vertx, dataDir, limits).compose(server -> server.online("bob", "phone")
        .compose(bob -> server.online("alice", "web").compose(alice ->
            alice.send(typing("bob", new JsonObject().put("text", "x".repeat(100))))
                .compose(v -> alice.expect("error"))
                .compose(error -> {
                  ctx.verify(() -> {
                    assertEquals("too_large", error.getString("code"));
                    // Clients read "larger than N bytes" in an id-less too_large as gateway.maxFrameBytes.
                    assertFalse(error.getString("message").matches(".*larger than \\d+ bytes.*"), error.getString("message"));
                  });
                  return alice.send(typing("bob", new JsonObject().put("text", "short")));
                })
                .compose(v -> bob.expect("signal"))
                .map(signal -> {
                  ctx.verify(() -> assertEquals("short", signal.getJsonObject("data").getString("text")));
                  return null;
                })
                .compose(v -> nothingBeforePong(alice)))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("while a gateway of the node is behind, signals are dropped without an error; afterwards they pass again")
  void signalsAreDroppedWhileBehind(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("bob", "phone")
        .compose(bob -> server.online("alice", "web").compose(alice -> {
          reportLoad(vertx, true);
          return alice.send(typing("bob", new JsonObject().put("n", 1)))
              .compose(v -> nothingBeforePong(alice))
              .compose(v -> {
                reportLoad(vertx, false);
                return alice.send(typing("bob", new JsonObject().put("n", 2)));
              })
              .compose(v -> bob.expect("signal"))
              .map(signal -> {
                ctx.verify(() -> assertEquals(2, signal.getJsonObject("data").getInteger("n")));
                return null;
              });
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** What a gateway instance's LoopLag publishes when its loop falls behind or catches up. */
  private static void reportLoad(Vertx vertx, boolean behind) {
    vertx.eventBus().publish(Addresses.ROUTER_LOAD, new GatewayLoad("gateway-test", behind, behind ? 5_000 : 0).toJson(),
        new DeliveryOptions().setLocalOnly(true));
  }

  @Test
  @DisplayName("text (seed) sessions receive no signals")
  void textSessionsGetNoSignals(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.text("bob")
        .compose(bob -> server.online("alice", "web").compose(alice -> alice.send(typing("bob", null))
            .compose(v -> alice.sendMessage("m1", "bob", "hello"))
            .compose(v -> bob.next())
            .map(text -> {
              ctx.verify(() -> assertEquals("hello", text));
              return null;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
