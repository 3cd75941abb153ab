package dev.switchboard.push;

import dev.switchboard.auth.ApiKeys;
import dev.switchboard.bus.Addresses;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
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
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rooms managed and written to by back ends: over HTTP and over the event bus, with the members' sockets live. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RoomsApiIT {

  @TempDir
  Path dataDir;

  private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");

  /** Succeeds only if {@code request} failed with {@code code}'s failure code. */
  private static io.vertx.core.Future<Void> refusedWith(io.vertx.core.Future<?> request, dev.switchboard.protocol.ErrorCode code) {
    return request.transform(done -> {
      if (done.succeeded()) {
        return io.vertx.core.Future.failedFuture(new AssertionError("expected " + code.wireName() + ", got " + done.result()));
      }
      if (!(done.cause() instanceof ReplyException reply) || reply.failureCode() != code.failureCode()) {
        return io.vertx.core.Future.failedFuture(new AssertionError("expected " + code.wireName() + ", got " + done.cause()));
      }
      return io.vertx.core.Future.succeededFuture();
    });
  }

  @Test
  @DisplayName("HTTP: create a room for a user, add a member, push to the room, list members and rooms, remove the member")
  void overHttp(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> {
      Http http = new Http(vertx, server.pushPort());
      return server.online("alice", "phone").compose(alice -> server.online("bob", "phone").compose(bob ->
          http.request(HttpMethod.POST, "/api/v1/rooms", JSON, new JsonObject().put("room", "team").put("owner", "alice").toBuffer())
              .compose(created -> {
                ctx.verify(() -> {
                  assertEquals(201, created.status());
                  assertEquals(new JsonObject().put("room", "team").put("roomSeq", 1), created.json());
                });
                return alice.expect("room");
              })
              .compose(v -> http.request(HttpMethod.PUT, "/api/v1/rooms/team/members/bob", Map.of(), null))
              .compose(added -> {
                ctx.verify(() -> assertEquals(200, added.status()));
                return alice.expect("room").compose(x -> bob.expect("room"));
              })
              .compose(atBob -> {
                ctx.verify(() -> {
                  assertEquals("added", atBob.getString("event"));
                  assertEquals("server", atBob.getString("by"));
                });
                return http.request(HttpMethod.POST, "/api/v1/messages", JSON,
                    new JsonObject().put("room", "team").put("body", "from the back end").toBuffer());
              })
              .compose(pushed -> {
                ctx.verify(() -> {
                  assertEquals(202, pushed.status(), pushed.body().toString());
                  assertEquals("team", pushed.json().getString("room"));
                  assertEquals(3L, pushed.json().getLong("roomSeq"));
                });
                return alice.expect("message").compose(atAlice -> bob.expect("message").map(atBob -> {
                  ctx.verify(() -> {
                    assertEquals(atAlice.getString("msgId"), atBob.getString("msgId"));
                    assertEquals(true, atBob.getBoolean("push"));
                    assertEquals("server", atBob.getString("from"));
                    assertEquals(3L, atBob.getLong("roomSeq"));
                  });
                  return null;
                }));
              })
              .compose(v -> http.request(HttpMethod.GET, "/api/v1/rooms/team/members", Map.of(), null))
              .compose(members -> {
                ctx.verify(() -> assertEquals(new JsonObject().put("room", "team").put("owner", "alice").put("roomSeq", 3)
                    .put("members", new JsonArray().add("alice").add("bob")), members.json()));
                return http.request(HttpMethod.GET, "/api/v1/users/bob/rooms", Map.of(), null);
              })
              .compose(rooms -> {
                ctx.verify(() -> assertEquals(new JsonArray().add("team"), rooms.json().getJsonArray("rooms")));
                return http.request(HttpMethod.DELETE, "/api/v1/rooms/team/members/bob", Map.of(), null);
              })
              .compose(removed -> {
                ctx.verify(() -> assertEquals(4L, removed.json().getLong("roomSeq")));
                return bob.expect("room");
              })
              .map(atBob -> {
                ctx.verify(() -> assertEquals("removed", atBob.getString("event")));
                return null;
              })));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("event bus: switchboard.rooms manages rooms, switchboard.push with room writes to every member")
  void overTheBus(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("carol", "phone").compose(carol ->
        vertx.eventBus().<JsonObject>request(Addresses.ROOMS, new JsonObject().put("op", "create").put("room", "ops")
                .put("by", "dora"))
            .compose(created -> {
              ctx.verify(() -> assertEquals(1L, created.body().getLong("roomSeq")));
              return vertx.eventBus().<JsonObject>request(Addresses.ROOMS, new JsonObject().put("op", "add").put("room", "ops")
                  .put("member", "carol"));
            })
            .compose(added -> carol.expect("room"))
            .compose(event -> vertx.eventBus().<JsonObject>request(Addresses.PUSH, new JsonObject().put("room", "ops")
                .put("body", "deploy at noon")))
            .compose(pushed -> {
              ctx.verify(() -> assertEquals(3L, pushed.body().getLong("roomSeq")));
              return carol.expect("message");
            })
            .compose(message -> {
              ctx.verify(() -> {
                assertEquals("ops", message.getString("room"));
                assertEquals("deploy at noon", message.getString("body"));
              });
              return vertx.eventBus().<JsonObject>request(Addresses.ROOMS, new JsonObject().put("op", "members").put("room", "ops"));
            })
            .compose(members -> {
              ctx.verify(() -> assertEquals(new JsonArray().add("dora").add("carol"), members.body().getJsonArray("members")));
              return vertx.eventBus().<JsonObject>request(Addresses.ROOMS, new JsonObject().put("op", "rooms").put("member", "carol"));
            })
            .compose(rooms -> {
              ctx.verify(() -> assertEquals(new JsonArray().add("ops"), rooms.body().getJsonArray("rooms")));
              return refusedWith(vertx.eventBus().request(Addresses.ROOMS, new JsonObject().put("op", "add").put("room", "nowhere")
                  .put("member", "carol")), dev.switchboard.protocol.ErrorCode.ROOM_NOT_FOUND);
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("jwt mode: the bus wants an API key; on the bus and over HTTP a key names the owner only if it may set senders")
  void jwtMode(Vertx vertx, VertxTestContext ctx) {
    JsonObject config = new JsonObject().put("auth", new JsonObject().put("mode", "jwt")
        .put("jwtKey", "test-secret-of-at-least-32-bytes-long!")
        .put("apiKeys", new JsonArray()
            .add(new JsonObject().put("name", "shop").put("sha256", ApiKeys.sha256("shop-key")))
            .add(new JsonObject().put("name", "ops").put("sha256", ApiKeys.sha256("ops-key")).put("mayImpersonate", true))));
    Map<String, String> shop = Map.of("Content-Type", "application/json", "Authorization", "Bearer shop-key");
    Map<String, String> ops = Map.of("Content-Type", "application/json", "Authorization", "Bearer ops-key");
    TestServer.start(vertx, dataDir, config).compose(server -> {
      Http http = new Http(vertx, server.pushPort());
      return refusedWith(vertx.eventBus().request(Addresses.ROOMS, new JsonObject().put("op", "create").put("room", "r1")),
              dev.switchboard.protocol.ErrorCode.UNAUTHORIZED)
          .compose(v -> vertx.eventBus().<JsonObject>request(Addresses.ROOMS, new JsonObject().put("op", "create").put("room", "r1"),
              new DeliveryOptions().addHeader(Addresses.API_KEY_HEADER, "shop-key")))
          .compose(created -> refusedWith(vertx.eventBus().request(Addresses.ROOMS, new JsonObject().put("op", "create")
              .put("room", "r3").put("by", "alice"), new DeliveryOptions().addHeader(Addresses.API_KEY_HEADER, "shop-key")),
              dev.switchboard.protocol.ErrorCode.FORBIDDEN))
          .compose(v -> http.request(HttpMethod.GET, "/api/v1/rooms/r1/members", shop, null))
          .compose(members -> {
            ctx.verify(() -> assertEquals("shop", members.json().getString("owner")));
            return http.request(HttpMethod.POST, "/api/v1/rooms", shop,
                new JsonObject().put("room", "r2").put("owner", "alice").toBuffer());
          })
          .compose(forbidden -> {
            ctx.verify(() -> assertEquals(403, forbidden.status()));
            return http.request(HttpMethod.POST, "/api/v1/rooms", ops,
                new JsonObject().put("room", "r2").put("owner", "alice").toBuffer());
          })
          .compose(created -> http.request(HttpMethod.GET, "/api/v1/rooms/r2/members", ops, null))
          .map(members -> {
            ctx.verify(() -> {
              assertEquals("alice", members.json().getString("owner"));
              assertTrue(members.json().getJsonArray("members").contains("alice"));
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }
}
