package dev.switchboard.gateway;

import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rooms over real sockets and the real store: membership, live and stored delivery, retries, limits, permissions. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RoomsIT {

  @TempDir
  Path dataDir;

  static JsonObject call(String type, String id, String room, String user) {
    JsonObject frame = new JsonObject().put("type", type).put("id", id);
    if (room != null) {
      frame.put("room", room);
    }
    if (user != null) {
      frame.put("user", user);
    }
    return frame;
  }

  static JsonObject toRoom(String id, String room, String body) {
    return new JsonObject().put("type", "send").put("id", id).put("room", room).put("body", body);
  }

  /**
   * Sends a room request and takes the next {@code n} frames: its answer (by id) and the room events
   * it caused, whose order against the answer is not fixed. Returns the answer; events are checked
   * by {@link #eventsOf}.
   */
  static Future<List<JsonObject>> request(WsClient client, JsonObject frame, int n) {
    return client.send(frame).compose(v -> take(client, n));
  }

  static Future<List<JsonObject>> take(WsClient client, int n) {
    List<JsonObject> out = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      chain = chain.compose(v -> client.nextJson().map(frame -> {
        out.add(frame);
        return null;
      }));
    }
    return chain.map(v -> out);
  }

  static JsonObject answer(List<JsonObject> frames, String id) {
    return frames.stream().filter(f -> id.equals(f.getString("id"))).findFirst()
        .orElseThrow(() -> new AssertionError("no answer to " + id + " in " + frames));
  }

  static List<String> eventsOf(List<JsonObject> frames) {
    return frames.stream().filter(f -> "room".equals(f.getString("type")))
        .map(f -> f.getString("room") + "#" + f.getLong("roomSeq") + " " + f.getString("event") + " " + f.getString("member"))
        .toList();
  }

  /** alice creates {@code room} and adds each of {@code members}, all of them online; every answer and event taken. */
  static Future<Void> setUp(WsClient alice, String room, List<WsClient> online, String... members) {
    Future<Void> chain = request(alice, call("createRoom", "c", room, null), 2).mapEmpty();
    for (int i = 0; i < members.length; i++) {
      String member = members[i];
      int told = i + 1; // the members added so far after this one, beside alice: each online one gets the event
      chain = chain.compose(v -> alice.send(call("addMember", "a-" + member, room, member)))
          .compose(v -> take(alice, 2)).mapEmpty();
      for (int k = 0; k < Math.min(told, online.size()); k++) {
        WsClient other = online.get(k);
        chain = chain.compose(v -> other.expect("room")).mapEmpty();
      }
    }
    return chain;
  }

  @Test
  @DisplayName("three members live: created and added events reach them, a room message reaches all three with one roomSeq and msgId")
  void threeMembersLive(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("bob", "phone").compose(bob -> server.online("carol", "phone").compose(carol ->
            request(alice, call("createRoom", "q1", "team", null), 2)
                .compose(frames -> {
                  ctx.verify(() -> {
                    assertEquals(new JsonObject().put("type", "done").put("id", "q1").put("room", "team").put("roomSeq", 1),
                        answer(frames, "q1"));
                    assertEquals(List.of("team#1 created alice"), eventsOf(frames));
                  });
                  return request(alice, call("addMember", "q2", "team", "bob"), 2);
                })
                .compose(frames -> bob.expect("room").map(atBob -> {
                  ctx.verify(() -> {
                    assertEquals(2L, answer(frames, "q2").getLong("roomSeq"));
                    assertEquals(List.of("team#2 added bob"), eventsOf(frames));
                    assertEquals("alice", atBob.getString("by"));
                    assertEquals(1L, atBob.getLong("seq"));
                  });
                  return null;
                }))
                .compose(v -> request(alice, call("addMember", "q3", "team", "carol"), 2))
                .compose(frames -> bob.expect("room").compose(x -> carol.expect("room")))
                .compose(atCarol -> {
                  ctx.verify(() -> assertEquals("team#3 added carol", eventsOf(List.of(atCarol)).get(0)));
                  return bob.send(toRoom("m1", "team", "hello team"));
                })
                .compose(v -> take(bob, 2))
                .compose(atBob -> alice.expect("message").compose(atAlice -> carol.expect("message").map(atCarol -> {
                  ctx.verify(() -> {
                    JsonObject accepted = answer(atBob, "m1");
                    assertEquals("accepted", accepted.getString("type"));
                    assertEquals("team", accepted.getString("room"));
                    assertEquals(4L, accepted.getLong("roomSeq"));
                    assertTrue(accepted.getBoolean("online"));
                    JsonObject own = atBob.stream().filter(f -> "message".equals(f.getString("type"))).findFirst().orElseThrow();
                    for (JsonObject m : List.of(own, atAlice, atCarol)) {
                      assertEquals(accepted.getString("msgId"), m.getString("msgId"));
                      assertEquals("team", m.getString("room"));
                      assertEquals(4L, m.getLong("roomSeq"));
                      assertEquals("bob", m.getString("from"));
                      assertEquals("hello team", m.getString("body"));
                    }
                    // Each member's own inbox seq: alice had 3 events, bob 2, carol 1.
                    assertEquals(List.of(4L, 3L, 2L), List.of(atAlice.getLong("seq"), own.getLong("seq"), atCarol.getLong("seq")));
                    assertEquals("alice", atAlice.getString("to"));
                  });
                  return null;
                })))
                .compose(v -> request(carol, call("members", "q4", "team", null), 1))
                .compose(members -> {
                  ctx.verify(() -> assertEquals(new JsonObject().put("type", "members").put("id", "q4").put("room", "team")
                      .put("owner", "alice").put("roomSeq", 4).put("members", new JsonArray().add("alice").add("bob").add("carol")),
                      members.get(0)));
                  return request(bob, call("rooms", "q5", null, null), 1);
                })
                .map(rooms -> {
                  ctx.verify(() -> assertEquals(new JsonObject().put("type", "rooms").put("id", "q5")
                      .put("rooms", new JsonArray().add("team")), rooms.get(0)));
                  return null;
                })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("an offline member gets the room's messages after its cursor on reconnect; one added later sees nothing older")
  void offlineMemberAndLateJoiner(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        setUp(alice, "team", List.of(), "bob", "carol")
            .compose(v -> alice.send(toRoom("m1", "team", "first")))
            .compose(v -> take(alice, 2))
            // carol reads the room so far and acks it.
            .compose(v -> server.json("carol", "phone"))
            .compose(carol -> take(carol, 3).compose(frames -> {
              ctx.verify(() -> {
                assertEquals(List.of("room", "message", "synced"), frames.stream().map(f -> f.getString("type")).toList());
                assertEquals("first", frames.get(1).getString("body"));
              });
              return carol.send(new JsonObject().put("type", "ack").put("seq", 2)).compose(x -> SignalsIT.nothingBeforePong(carol))
                  .compose(x -> carol.close());
            }))
            .compose(v -> alice.send(toRoom("m2", "team", "second")))
            .compose(v -> take(alice, 2))
            .compose(v -> request(alice, call("addMember", "a-dave", "team", "dave"), 2))
            .compose(v -> alice.send(toRoom("m3", "team", "third")))
            .compose(v -> take(alice, 2))
            .compose(v -> server.json("carol", "phone"))
            .compose(carol -> take(carol, 4).map(frames -> {
              ctx.verify(() -> assertEquals(List.of("message team#5 second", "room team#6 added dave", "message team#7 third",
                  "synced"), frames.stream().map(RoomsIT::describe).toList()));
              return null;
            }))
            .compose(v -> server.json("dave", "phone"))
            .compose(dave -> take(dave, 3).map(frames -> {
              ctx.verify(() -> {
                assertEquals(List.of("room team#6 added dave", "message team#7 third", "synced"),
                    frames.stream().map(RoomsIT::describe).toList());
                assertEquals(List.of(1L, 2L), List.of(frames.get(0).getLong("seq"), frames.get(1).getLong("seq")));
              });
              return null;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  static String describe(JsonObject frame) {
    return switch (frame.getString("type")) {
      case "message" -> "message " + frame.getString("room") + "#" + frame.getLong("roomSeq") + " " + frame.getString("body");
      case "room" -> "room " + frame.getString("room") + "#" + frame.getLong("roomSeq") + " " + frame.getString("event")
          + " " + frame.getString("member");
      default -> frame.getString("type");
    };
  }

  @Test
  @DisplayName("a removed member is told, then gets nothing new and may not send; a member may leave by itself")
  void removedMemberGetsNothingNew(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("bob", "phone").compose(bob -> server.online("carol", "phone").compose(carol ->
            setUp(alice, "team", List.of(bob, carol), "bob", "carol")
                .compose(v -> request(alice, call("removeMember", "r1", "team", "bob"), 2))
                .compose(v -> bob.expect("room"))
                .compose(removed -> {
                  ctx.verify(() -> assertEquals("room team#4 removed bob", describe(removed)));
                  return carol.expect("room");
                })
                .compose(v -> alice.send(toRoom("m1", "team", "without bob")))
                .compose(v -> take(alice, 2))
                .compose(v -> carol.expect("message"))
                .compose(v -> SignalsIT.nothingBeforePong(bob))
                .compose(v -> request(bob, toRoom("m2", "team", "let me back"), 1))
                .compose(refused -> {
                  ctx.verify(() -> {
                    assertEquals("error", refused.get(0).getString("type"));
                    assertEquals("m2", refused.get(0).getString("id"));
                    assertEquals("not_a_member", refused.get(0).getString("code"));
                  });
                  return request(carol, call("removeMember", "l1", "team", "carol"), 2);
                })
                .compose(left -> alice.expect("room").map(atAlice -> {
                  ctx.verify(() -> {
                    assertEquals(List.of("team#6 removed carol"), eventsOf(left));
                    assertEquals("carol", atAlice.getString("by"));
                  });
                  return null;
                }))
                .compose(v -> request(alice, call("members", "q", "team", null), 1))
                .map(members -> {
                  ctx.verify(() -> assertEquals(new JsonArray().add("alice"), members.get(0).getJsonArray("members")));
                  return null;
                })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a room send retried with the same id is answered as before (duplicate) and delivered once")
  void idempotentRetry(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("bob", "phone").compose(bob ->
            setUp(alice, "team", List.of(bob), "bob")
                .compose(v -> request(alice, toRoom("m1", "team", "once"), 2))
                .compose(first -> bob.expect("message").compose(x -> request(alice, toRoom("m1", "team", "once"), 1))
                    .map(retry -> {
                      ctx.verify(() -> {
                        JsonObject accepted = answer(first, "m1");
                        JsonObject again = retry.get(0);
                        assertEquals(true, again.getBoolean("duplicate"));
                        assertEquals(accepted.getString("msgId"), again.getString("msgId"));
                        assertEquals(accepted.getLong("roomSeq"), again.getLong("roomSeq"));
                      });
                      return null;
                    }))
                .compose(v -> SignalsIT.nothingBeforePong(bob))
                .compose(v -> request(alice, toRoom("m1", "team", "another body"), 1))
                .map(reused -> {
                  ctx.verify(() -> assertEquals("id_reused", reused.get(0).getString("code")));
                  return null;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("limits.maxRoomMembers and limits.maxRoomsPerUser refuse one more with room_full and too_many_rooms")
  void limits(Vertx vertx, VertxTestContext ctx) {
    JsonObject config = new JsonObject().put("limits", new JsonObject().put("maxRoomMembers", 2).put("maxRoomsPerUser", 1));
    TestServer.start(vertx, dataDir, config).compose(server -> server.online("alice", "phone").compose(alice ->
        setUp(alice, "team", List.of(), "bob")
            .compose(v -> request(alice, call("addMember", "a3", "team", "carol"), 1))
            .compose(full -> {
              ctx.verify(() -> {
                assertEquals("room_full", full.get(0).getString("code"));
                assertEquals("a3", full.get(0).getString("id"));
              });
              return request(alice, call("createRoom", "c2", "other", null), 1);
            })
            .map(tooMany -> {
              ctx.verify(() -> assertEquals("too_many_rooms", tooMany.get(0).getString("code")));
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("bad room frames are refused with their id and the connection goes on")
  void badFrames(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        request(alice, toRoom("m1", "nowhere", "hello?"), 1)
            .compose(notFound -> {
              ctx.verify(() -> assertEquals("room_not_found", notFound.get(0).getString("code")));
              return request(alice, call("addMember", "a1", "nowhere", "bob"), 1);
            })
            .compose(notFound -> {
              ctx.verify(() -> assertEquals("room_not_found", notFound.get(0).getString("code")));
              return request(alice, call("createRoom", "c1", "b|ad", null), 1);
            })
            .compose(invalid -> {
              ctx.verify(() -> {
                assertEquals("invalid_field", invalid.get(0).getString("code"));
                assertEquals("c1", invalid.get(0).getString("id"));
              });
              return request(alice, new JsonObject().put("type", "send").put("id", "m2").put("room", "team")
                  .put("to", "bob").put("body", "both"), 1);
            })
            .compose(both -> {
              ctx.verify(() -> assertEquals("invalid_field", both.get(0).getString("code")));
              return request(alice, call("members", "q1", "nowhere", null), 1);
            })
            .compose(none -> {
              ctx.verify(() -> assertEquals("room_not_found", none.get(0).getString("code")));
              return SignalsIT.nothingBeforePong(alice);
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  static final String SECRET = "test-secret-of-at-least-32-bytes-long!";

  @Test
  @DisplayName("in jwt mode the token's user acts: only the owner adds or removes others, only members list or send, anyone may leave")
  void jwtPermissions(Vertx vertx, VertxTestContext ctx) {
    JWTAuth issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
        .setBuffer(SECRET)));
    JsonObject config = new JsonObject().put("auth", new JsonObject().put("mode", "jwt").put("jwtKey", SECRET));
    TestServer.start(vertx, dataDir, config).compose(server -> {
      java.util.function.Function<String, Future<WsClient>> as = user -> WsClient.connect(vertx, server.gatewayPort(),
              "/ws?device=d&user=" + user + "&token=" + issuer.generateToken(new JsonObject().put("sub", user),
                  new JWTOptions().setExpiresInSeconds(600)), true)
          .compose(c -> c.expect("synced").map(c));
      return as.apply("alice").compose(alice -> as.apply("bob").compose(bob -> as.apply("mallory").compose(mallory ->
          setUp(alice, "team", List.of(bob), "bob")
              .compose(v -> request(bob, call("addMember", "b1", "team", "mallory"), 1))
              .compose(notOwner -> {
                ctx.verify(() -> assertEquals("not_owner", notOwner.get(0).getString("code")));
                return request(mallory, call("addMember", "x1", "team", "mallory"), 1);
              })
              .compose(notMember -> {
                ctx.verify(() -> assertEquals("not_a_member", notMember.get(0).getString("code")));
                return request(mallory, call("members", "x2", "team", null), 1);
              })
              .compose(notMember -> {
                ctx.verify(() -> assertEquals("not_a_member", notMember.get(0).getString("code")));
                return request(mallory, toRoom("x3", "team", "spam"), 1);
              })
              .compose(notMember -> {
                ctx.verify(() -> assertEquals("not_a_member", notMember.get(0).getString("code")));
                return request(mallory, call("removeMember", "x4", "team", "bob"), 1);
              })
              .compose(notMember -> {
                ctx.verify(() -> assertEquals("not_a_member", notMember.get(0).getString("code")));
                return request(bob, call("removeMember", "b2", "team", "alice"), 1);
              })
              .compose(notOwner -> {
                ctx.verify(() -> assertEquals("not_owner", notOwner.get(0).getString("code")));
                return request(bob, call("removeMember", "b3", "team", "bob"), 2);
              })
              .compose(left -> alice.expect("room").map(atAlice -> {
                ctx.verify(() -> {
                  assertEquals(List.of("team#3 removed bob"), eventsOf(left));
                  assertEquals("bob", atAlice.getString("by"));
                });
                return null;
              })))));
    }).onComplete(ctx.succeedingThenComplete());
  }
}
