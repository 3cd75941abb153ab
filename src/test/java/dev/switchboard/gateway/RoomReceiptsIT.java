package dev.switchboard.gateway;

import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
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
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static dev.switchboard.gateway.RoomsIT.setUp;
import static dev.switchboard.gateway.RoomsIT.take;
import static dev.switchboard.gateway.RoomsIT.toRoom;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Delivered and read receipts of room messages over real sockets and the real store. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class RoomReceiptsIT {

  @TempDir
  Path dataDir;

  static JsonObject toRoomWithReceipt(String id, String room, String body) {
    return toRoom(id, room, body).put("receipt", true);
  }

  static JsonObject readRoom(String room, String upTo) {
    return new JsonObject().put("type", "read").put("room", room).put("upTo", upTo);
  }

  static Future<Void> ack(WsClient client, long seq) {
    return client.send(new JsonObject().put("type", "ack").put("seq", seq));
  }

  /** Every frame up to and including {@code synced}: what a device reconnecting receives from its backlog. */
  static Future<List<JsonObject>> untilSynced(WsClient client) {
    List<JsonObject> frames = new ArrayList<>();
    return untilSynced(client, frames).map(v -> frames);
  }

  private static Future<Void> untilSynced(WsClient client, List<JsonObject> frames) {
    return client.nextJson().compose(frame -> {
      frames.add(frame);
      return "synced".equals(frame.getString("type")) ? Future.succeededFuture() : untilSynced(client, frames);
    });
  }

  /** The next frame of {@code type}, the frames before it (room events) passed over. */
  static Future<JsonObject> skipTo(WsClient client, String type) {
    return client.nextJson().compose(frame -> type.equals(frame.getString("type"))
        ? Future.succeededFuture(frame) : skipTo(client, type));
  }

  static List<JsonObject> ofType(List<JsonObject> frames, String type) {
    return frames.stream().filter(f -> type.equals(f.getString("type"))).toList();
  }

  static JsonObject accepted(List<JsonObject> frames) {
    return ofType(frames, "accepted").get(0);
  }

  @Test
  @DisplayName("the sender gets one delivered receipt per other member once its device acks, none for its own copy nor for a second device")
  void oneDeliveredPerOtherMember(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("bob", "phone").compose(bob -> server.online("carol", "phone").compose(carol ->
            setUp(alice, "team", List.of(bob, carol), "bob", "carol")
                .compose(v -> alice.send(toRoomWithReceipt("m1", "team", "did it arrive?")))
                .compose(v -> take(alice, 2))
                .compose(atAlice -> {
                  String msgId = accepted(atAlice).getString("msgId");
                  ctx.verify(() -> assertTrue(msgId.endsWith(".r"), msgId));
                  // The sender's own copy is acked first: if it yielded a receipt, that would come first.
                  return ack(alice, ofType(atAlice, "message").get(0).getLong("seq"))
                      .compose(v -> bob.expect("message")).compose(m -> ack(bob, m.getLong("seq")))
                      .compose(v -> server.json("bob", "laptop"))
                      .compose(laptop -> untilSynced(laptop).compose(frames ->
                          ack(laptop, ofType(frames, "message").get(0).getLong("seq"))))
                      .compose(v -> carol.expect("message")).compose(m -> ack(carol, m.getLong("seq")))
                      .compose(v -> alice.expect("delivered", 2))
                      .compose(delivered -> carol.sendMessage("c1", "alice", "after my ack").compose(v -> carol.expect("accepted"))
                          .compose(v -> alice.expect("message")).map(next -> {
                            ctx.verify(() -> {
                              assertEquals(Set.of("bob", "carol"), delivered.stream().map(d -> d.getString("by")).collect(Collectors.toSet()));
                              for (JsonObject d : delivered) {
                                assertEquals("team", d.getString("room"));
                                assertEquals(msgId, d.getString("upTo"));
                              }
                              assertEquals("after my ack", next.getString("body"));
                            });
                            return null;
                          }));
                })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("an offline sender gets the members' delivered receipts from its inbox when it reconnects")
  void offlineSenderGetsThemOnReconnect(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("bob", "phone").compose(bob -> server.online("carol", "phone").compose(carol ->
            setUp(alice, "team", List.of(bob, carol), "bob", "carol")
                .compose(v -> alice.send(toRoomWithReceipt("m1", "team", "while you are away")))
                .compose(v -> take(alice, 2))
                .compose(atAlice -> alice.close().map(v -> accepted(atAlice).getString("msgId")))
                .compose(msgId -> bob.expect("message").compose(m -> ack(bob, m.getLong("seq")))
                    // A send after the ack: once it is accepted, the receipt the ack caused is stored.
                    .compose(v -> bob.sendMessage("b1", "alice", "from bob")).compose(v -> bob.expect("accepted"))
                    .compose(v -> carol.expect("message")).compose(m -> ack(carol, m.getLong("seq")))
                    .compose(v -> carol.sendMessage("c1", "alice", "from carol")).compose(v -> carol.expect("accepted"))
                    .compose(v -> server.json("alice", "phone"))
                    .compose(RoomReceiptsIT::untilSynced)
                    .map(frames -> {
                      ctx.verify(() -> {
                        List<JsonObject> delivered = ofType(frames, "delivered");
                        assertEquals(List.of("bob", "carol"), delivered.stream().map(d -> d.getString("by")).toList());
                        for (JsonObject d : delivered) {
                          assertEquals("team", d.getString("room"));
                          assertEquals(msgId, d.getString("upTo"));
                        }
                        List<String> order = frames.stream().filter(f -> !"room".equals(f.getString("type")))
                            .map(f -> f.getString("type") + (f.containsKey("by") ? " " + f.getString("by") : ""))
                            .toList();
                        assertEquals(List.of("message", "delivered bob", "message", "delivered carol", "message", "synced"), order);
                      });
                      return null;
                    }))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("above limits.roomReceiptMembers a room message asking for receipts and a room read are refused with room_too_big")
  void refusedAboveTheLimit(Vertx vertx, VertxTestContext ctx) {
    JsonObject config = new JsonObject().put("limits", new JsonObject().put("roomReceiptMembers", 2));
    TestServer.start(vertx, dataDir, config).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("bob", "phone").compose(bob -> setUp(alice, "pair", List.of(bob), "bob")
            .compose(v -> alice.send(toRoomWithReceipt("p1", "pair", "two of us")))
            .compose(v -> take(alice, 2))
            .compose(atAlice -> {
              ctx.verify(() -> assertEquals("accepted", accepted(atAlice).getString("type")));
              return bob.expect("message").compose(m -> ack(bob, m.getLong("seq")))
                  .compose(v -> alice.expect("delivered"));
            })
            .compose(v -> setUp(alice, "team", List.of(bob), "bob", "carol"))
            .compose(v -> alice.send(toRoomWithReceipt("t1", "team", "three of us")))
            .compose(v -> alice.expect("error"))
            .compose(error -> {
              ctx.verify(() -> {
                assertEquals("room_too_big", error.getString("code"));
                assertEquals("t1", error.getString("id"));
                assertTrue(error.getString("message").contains("limits.roomReceiptMembers"), error.getString("message"));
              });
              return alice.send(toRoom("t2", "team", "no receipt asked")).compose(v -> take(alice, 2));
            })
            .compose(atAlice -> {
              String msgId = accepted(atAlice).getString("msgId");
              return bob.expect("message").compose(m -> bob.send(readRoom("team", msgId)))
                  .compose(v -> bob.expect("error"));
            })
            .map(error -> {
              ctx.verify(() -> {
                assertEquals("room_too_big", error.getString("code"));
                assertTrue(error.getString("message").contains("limits.roomReceiptMembers"), error.getString("message"));
              });
              return null;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a member's read of a room reaches every other member, live and from the inbox, and a non-member's is refused")
  void readReachesTheOthers(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("bob", "phone").compose(bob -> setUp(alice, "team", List.of(bob), "bob", "carol")
            .compose(v -> alice.send(toRoom("m1", "team", "read me")))
            .compose(v -> take(alice, 2))
            .compose(atAlice -> {
              String msgId = accepted(atAlice).getString("msgId");
              return bob.expect("message").compose(m -> bob.send(readRoom("team", msgId)))
                  .compose(v -> alice.expect("read"))
                  .compose(read -> {
                    ctx.verify(() -> {
                      assertEquals("bob", read.getString("by"));
                      assertEquals("team", read.getString("room"));
                      assertEquals(msgId, read.getString("upTo"));
                    });
                    // The reader stores no receipt of its own read.
                    return SignalsIT.nothingBeforePong(bob);
                  })
                  .compose(v -> server.json("carol", "phone")).compose(RoomReceiptsIT::untilSynced)
                  .compose(frames -> {
                    ctx.verify(() -> {
                      List<JsonObject> reads = ofType(frames, "read");
                      assertEquals(1, reads.size(), frames.toString());
                      assertEquals("bob", reads.get(0).getString("by"));
                      assertEquals("team", reads.get(0).getString("room"));
                      assertEquals(msgId, reads.get(0).getString("upTo"));
                    });
                    return server.online("dave", "phone");
                  })
                  .compose(dave -> dave.send(readRoom("team", msgId)).compose(v -> dave.expect("error")));
            })
            .map(error -> {
              ctx.verify(() -> assertEquals("not_a_member", error.getString("code")));
              return null;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a read sent right after a member's removal never reaches the removed member after its removal event")
  void readAfterRemovalSkipsTheRemovedMember(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("carol", "phone").compose(carol -> setUp(alice, "team", List.of(carol), "carol", "bob")
            .compose(v -> alice.send(toRoom("m1", "team", "read me")))
            .compose(v -> take(alice, 2))
            .compose(atAlice -> {
              String msgId = accepted(atAlice).getString("msgId");
              // Both frames in one go: the read is handled while the removal is being committed.
              return carol.expect("message")
                  .compose(m -> alice.send(RoomsIT.call("removeMember", "r1", "team", "bob")))
                  .compose(v -> alice.send(readRoom("team", msgId)))
                  .compose(v -> skipTo(carol, "read"))
                  .compose(read -> server.json("bob", "phone")).compose(RoomReceiptsIT::untilSynced);
            })
            .map(frames -> {
              ctx.verify(() -> {
                List<String> types = frames.stream().map(f -> f.getString("type")
                    + ("room".equals(f.getString("type")) ? " " + f.getString("event") : "")).toList();
                int removed = types.indexOf("room removed");
                assertTrue(removed >= 0, types.toString());
                assertEquals(-1, types.subList(removed, types.size()).indexOf("read"), types.toString());
              });
              return null;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a sender who left the room gets no delivered receipt for a member's later ack")
  void noDeliveredAfterTheSenderLeft(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("alice", "phone").compose(alice ->
        server.online("bob", "phone").compose(bob -> setUp(alice, "team", List.of(bob), "bob")
            .compose(v -> alice.send(toRoomWithReceipt("m1", "team", "then I leave")))
            .compose(v -> take(alice, 2))
            .compose(atAlice -> bob.expect("message"))
            .compose(m -> RoomsIT.request(alice, RoomsIT.call("removeMember", "l1", "team", "alice"), 2)
                .compose(v -> skipTo(bob, "room"))
                .compose(v -> ack(bob, m.getLong("seq"))))
            // A send after the ack: once it is accepted, a receipt the ack caused would be stored before it.
            .compose(v -> bob.sendMessage("b1", "alice", "after my ack")).compose(v -> skipTo(bob, "accepted"))
            .compose(v -> alice.nextJson())
            .map(next -> {
              ctx.verify(() -> {
                assertEquals("message", next.getString("type"), next.encode());
                assertEquals("after my ack", next.getString("body"));
              });
              return null;
            }))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
