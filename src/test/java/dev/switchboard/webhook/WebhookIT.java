package dev.switchboard.webhook;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.SystemInboxes;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WebhookReceiver;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.MessageConsumer;
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
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Offline notifications posted to a local receiver over real sockets, with the real store. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class WebhookIT {

  @TempDir
  Path dataDir;

  static Future<TestServer> start(Vertx vertx, Path dataDir, JsonObject webhook) {
    return start(vertx, dataDir, webhook, new JsonObject());
  }

  static Future<TestServer> start(Vertx vertx, Path dataDir, JsonObject webhook, JsonObject inbox) {
    return TestServer.start(vertx, dataDir, new JsonObject().put("webhook", webhook).put("inbox", inbox));
  }

  /** Sends and waits for {@code accepted}: by then the message and its notification are committed. */
  static Future<JsonObject> send(WsClient client, String id, String to, String body) {
    return client.sendMessage(id, to, body).compose(v -> client.expect("accepted"));
  }

  /** Takes frames until one of {@code type} (the backlog may come first). */
  static Future<JsonObject> skipTo(WsClient client, String type) {
    return client.nextJson().compose(frame -> type.equals(frame.getString("type"))
        ? Future.succeededFuture(frame)
        : skipTo(client, type));
  }

  static List<String> field(List<JsonObject> notifications, String name) {
    return notifications.stream().map(n -> n.getString(name)).toList();
  }

  static void assertDistinctIds(List<JsonObject> notifications) {
    assertEquals(notifications.size(), new HashSet<>(field(notifications, "id")).size(), "ids " + field(notifications, "id"));
  }

  @Test
  @DisplayName("one signed notification per offline recipient of sends and pushes, none for online ones or retries")
  void offlineOnly(Vertx vertx, VertxTestContext ctx) {
    WebhookReceiver.start(vertx).compose(receiver -> start(vertx, dataDir, receiver.config()).compose(server ->
        server.online("bob", "phone").compose(bob -> server.online("alice", "web").compose(alice ->
            send(alice, "a1", "bob", "to bob, online")
                .compose(v -> send(alice, "a2", "carol", "to carol, offline"))
                .compose(v -> send(alice, "a2", "carol", "to carol, offline")) // a retry: no second notification
                .compose(v -> vertx.eventBus().request(Addresses.PUSH,
                    new JsonObject().put("to", new JsonArray().add("bob").add("dave")).put("body", "pushed")))
                .compose(v -> send(alice, "a3", "erin", "the last one"))
                .compose(v -> receiver.taken(3))
                .compose(taken -> bob.expect("message", 2).map(atBob -> {
                  ctx.verify(() -> {
                    assertEquals(List.of("carol", "dave", "erin"), field(taken, "user"));
                    assertEquals(List.of("alice", "server", "alice"), field(taken, "from"));
                    assertEquals(List.of("to carol, offline", "pushed", "the last one"), field(taken, "body"));
                    assertEquals(true, taken.get(1).getBoolean("push"));
                    assertTrue(taken.get(0).getLong("ts") > 0);
                    assertDistinctIds(taken);
                    assertEquals(0, receiver.badSignatures());
                  });
                  return null;
                }))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a push to five offline users reads all their mute settings in one inbox request")
  void oneMuteLookupPerBatch(Vertx vertx, VertxTestContext ctx) {
    AtomicInteger muteReads = new AtomicInteger();
    // Every inbox request but the dispatcher's reads of its own queue: the router's mute lookups.
    Handler<DeliveryContext<Object>> counting = delivery -> {
      String address = delivery.message().address();
      if (address.equals(Addresses.INBOX_CURSORS) || (address.equals(Addresses.INBOX_READ)
          && !SystemInboxes.WEBHOOK.equals(((JsonObject) delivery.body()).getString("user")))) {
        muteReads.incrementAndGet();
      }
      delivery.next();
    };
    JsonObject push = new JsonObject().put("to", new JsonArray(List.of("u1", "u2", "u3", "u4", "erin"))).put("body", "news");
    WebhookReceiver.start(vertx).compose(receiver -> start(vertx, dataDir, receiver.config()).compose(server ->
        server.online("erin", "phone")
            .compose(erin -> erin.send(new JsonObject().put("type", "mute").put("muted", true))
                .compose(v -> erin.expect("muted"))
                .compose(v -> erin.close()))
            .compose(v -> {
              vertx.eventBus().addInboundInterceptor(counting);
              return vertx.eventBus().request(Addresses.PUSH, push);
            })
            .compose(v -> receiver.taken(4))
            .eventually(() -> {
              vertx.eventBus().removeInboundInterceptor(counting);
              return Future.succeededFuture();
            })
            .map(taken -> {
              ctx.verify(() -> {
                assertEquals(List.of("u1", "u2", "u3", "u4"), field(taken, "user"));
                assertEquals(1, muteReads.get(), "inbox requests for the mute settings of one push");
              });
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a receiver that answers 500 gets the batch again after a back-off; nothing is lost or doubled")
  void retriesAfterFailure(Vertx vertx, VertxTestContext ctx) {
    WebhookReceiver.start(vertx).compose(receiver -> {
      receiver.answer(500, 500);
      return start(vertx, dataDir, receiver.config()).compose(server -> server.online("alice", "web").compose(alice ->
          send(alice, "a1", "carol", "one").compose(v -> send(alice, "a2", "dave", "two"))
              .compose(v -> receiver.taken(2))
              .compose(taken -> send(alice, "a3", "erin", "three").compose(v -> receiver.taken(3)))
              .map(taken -> {
                ctx.verify(() -> {
                  assertEquals(List.of("carol", "dave", "erin"), field(taken, "user"));
                  assertDistinctIds(taken);
                  assertTrue(receiver.posts() >= 4, "posts: " + receiver.posts());
                  assertEquals(0, receiver.badSignatures());
                });
                return null;
              })));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a notification stored before a restart and not yet taken is posted once after it")
  void survivesRestart(Vertx vertx, VertxTestContext ctx) {
    WebhookReceiver.start(vertx).compose(receiver -> {
      receiver.answerFromNowOn(503);
      return start(vertx, dataDir, receiver.config())
          .compose(first -> first.online("alice", "web")
              .compose(alice -> send(alice, "a1", "carol", "before the restart"))
              .compose(v -> receiver.posted(1)) // stored and tried: the receiver refused it
              .compose(v -> first.stop()))
          .compose(v -> {
            receiver.answerFromNowOn(200);
            return start(vertx, dataDir, receiver.config());
          })
          .compose(second -> receiver.taken(1)
              .compose(v -> second.online("alice", "web"))
              .compose(alice -> send(alice, "a2", "dave", "after the restart"))
              .compose(v -> receiver.taken(2)))
          .map(taken -> {
            ctx.verify(() -> {
              assertEquals(List.of("carol", "dave"), field(taken, "user"));
              assertEquals(List.of("before the restart", "after the restart"), field(taken, "body"));
              assertDistinctIds(taken);
            });
            return null;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("past webhook.maxQueued waiting notifications, new ones are not written")
  void queueLimit(Vertx vertx, VertxTestContext ctx) {
    WebhookReceiver.start(vertx).compose(receiver -> {
      receiver.answerFromNowOn(500);
      return start(vertx, dataDir, receiver.config().put("maxQueued", 2)).compose(server ->
          server.online("alice", "web").compose(alice -> receiver.posted(0)
              .compose(v -> send(alice, "a1", "carol", "1"))
              .compose(v -> send(alice, "a2", "dave", "2"))
              .compose(v -> send(alice, "a3", "erin", "3"))
              .compose(v -> send(alice, "a4", "frank", "4"))
              .compose(v -> {
                // The dispatcher reports no report while it fails; its next one follows the drain.
                Promise<Void> drained = Promise.promise();
                MessageConsumer<JsonObject> reports = vertx.eventBus().consumer(Addresses.WEBHOOK_BACKLOG,
                    m -> drained.tryComplete());
                receiver.answerFromNowOn(200);
                return receiver.taken(2).compose(taken -> drained.future()).compose(d -> reports.unregister());
              })
              // Once the queue has drained, notifications are written again.
              .compose(v -> send(alice, "a5", "gina", "5"))
              .compose(v -> receiver.taken(3))
              .map(taken -> {
                ctx.verify(() -> assertEquals(List.of("carol", "dave", "gina"), field(taken, "user")));
                return null;
              })));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a user who muted a sender, or everyone, gets no notification, also after a restart; unmuting ends it")
  void muting(Vertx vertx, VertxTestContext ctx) {
    JsonObject inbox = new JsonObject();
    JsonObject muteAlice = new JsonObject().put("type", "mute").put("peer", "alice").put("muted", true);
    JsonObject muteAll = new JsonObject().put("type", "mute").put("muted", true);
    WebhookReceiver.start(vertx).compose(receiver -> start(vertx, dataDir, receiver.config(), inbox)
        .compose(first -> first.online("carol", "phone").compose(carol -> carol.send(muteAlice)
                .compose(v -> carol.expect("muted"))
                .compose(muted -> {
                  ctx.verify(() -> assertEquals(new JsonObject().put("type", "muted").put("peer", "alice")
                      .put("muted", true), muted));
                  return carol.close();
                }))
            .compose(v -> first.online("dave", "phone"))
            .compose(dave -> dave.send(muteAll).compose(v -> dave.expect("muted")).compose(v -> dave.close()))
            .compose(v -> first.stop()))
        .compose(v -> start(vertx, dataDir, receiver.config(), inbox))
        .compose(server -> server.online("alice", "web").compose(alice -> server.online("bob", "web").compose(bob ->
            send(alice, "a1", "carol", "muted by carol")
                .compose(v -> send(alice, "a2", "dave", "muted by dave"))
                .compose(v -> send(bob, "b1", "carol", "bob is not muted"))
                .compose(v -> send(alice, "a3", "erin", "erin muted nothing"))
                .compose(v -> receiver.taken(2))
                .compose(taken -> {
                  ctx.verify(() -> assertEquals(List.of("bob is not muted", "erin muted nothing"), field(taken, "body")));
                  return server.json("carol", "phone");
                })
                .compose(carol -> carol.send(muteAlice.copy().put("muted", false)).compose(v -> skipTo(carol, "muted"))
                    .compose(v -> carol.close()))
                .compose(v -> send(alice, "a4", "carol", "unmuted"))
                .compose(v -> receiver.taken(3))
                .map(taken -> {
                  ctx.verify(() -> {
                    assertEquals("unmuted", taken.get(2).getString("body"));
                    assertEquals(3, taken.size());
                  });
                  return null;
                })))))
        .onComplete(ctx.succeedingThenComplete());
  }
  /** A JSON client past its backlog (room events come before {@code synced}). */
  static Future<WsClient> synced(TestServer server, String user) {
    return server.json(user, "phone").compose(client -> skipTo(client, "synced").map(frame -> client));
  }

  /** A back end's room request on the bus (insecure mode: no API key), made in {@code by}'s name. */
  static Future<Object> room(Vertx vertx, String op, String room, String member) {
    JsonObject request = new JsonObject().put("op", op).put("room", room).put("by", "alice");
    if (member != null) {
      request.put("member", member);
    }
    return vertx.eventBus().request(Addresses.ROOMS, request).map(reply -> reply.body());
  }

  @Test
  @DisplayName("a room message notifies each offline member once, not its sender, online members, or a member who muted the room")
  void roomMessages(Vertx vertx, VertxTestContext ctx) {
    JsonObject send = new JsonObject().put("type", "send").put("id", "r1").put("room", "team").put("body", "hello team");
    WebhookReceiver.start(vertx).compose(receiver -> start(vertx, dataDir, receiver.config()).compose(server ->
        room(vertx, "create", "team", null)
            .compose(v -> room(vertx, "add", "team", "bob"))
            .compose(v -> room(vertx, "add", "team", "carol"))
            .compose(v -> room(vertx, "add", "team", "dave"))
            .compose(v -> synced(server, "carol"))
            .compose(carol -> carol.send(new JsonObject().put("type", "mute").put("room", "team").put("muted", true))
                .compose(v -> skipTo(carol, "muted"))
                .compose(muted -> {
                  ctx.verify(() -> assertEquals(new JsonObject().put("type", "muted").put("room", "team").put("muted", true),
                      muted));
                  return carol.close();
                }))
            .compose(v -> synced(server, "bob"))
            .compose(bob -> synced(server, "alice").compose(alice ->
                alice.send(send).compose(v -> skipTo(alice, "accepted"))
                    .compose(v -> alice.send(send)).compose(v -> skipTo(alice, "accepted")) // a retry: no second notification
                    .compose(v -> skipTo(bob, "message"))
                    .compose(atBob -> {
                      ctx.verify(() -> assertEquals("hello team", atBob.getString("body")));
                      return send(alice, "a1", "erin", "the last one");
                    })
                    .compose(v -> receiver.taken(2))
                    .map(taken -> {
                      ctx.verify(() -> {
                        assertEquals(List.of("dave", "erin"), field(taken, "user"));
                        assertEquals(List.of("alice", "alice"), field(taken, "from"));
                        assertEquals("team", taken.get(0).getString("room"));
                        assertEquals(List.of("hello team", "the last one"), field(taken, "body"));
                        assertDistinctIds(taken);
                        assertEquals(0, receiver.badSignatures());
                      });
                      return null;
                    })))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
