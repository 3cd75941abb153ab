package dev.switchboard.storage;

import dev.switchboard.support.ProcessServer;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What was accepted survives the server process being killed with SIGKILL, on the log engine. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class DurabilityIT {

  @TempDir
  Path dataDir;

  @Test
  @DisplayName("every accepted message survives kill -9 of the server and is delivered, in order, after a restart")
  void acceptedMessagesSurviveKill9(Vertx vertx, VertxTestContext ctx) throws Exception {
    int count = 300;
    List<String> acceptedIds = new ArrayList<>();
    JsonObject inbox = new JsonObject().put("inbox", new JsonObject().put("engine", "log"));
    // Sent as fast as possible: lift the per-connection rate limit for this client.
    JsonObject unlimited = inbox.copy().put("limits", new JsonObject().put("messagesPerSecond", 1_000_000)
        .put("messageBurst", 1_000_000));
    try (ProcessServer first = ProcessServer.start(dataDir, unlimited, List.of(), List.of())) {
      // Sends pipelined as fast as the socket takes them; the kill follows the last accepted frame at once.
      WsClient alice = WsClient.connect(vertx, first.gatewayPort(), "/ws?user=alice&device=laptop", true)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      for (int i = 0; i < count; i++) {
        alice.sendMessage("k" + i, "bob", "durable " + i);
      }
      List<JsonObject> frames = collectAccepted(alice, count, new ArrayList<>())
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      first.kill();
      frames.forEach(f -> acceptedIds.add(f.getString("msgId")));
    }
    assertEquals(count, acceptedIds.size());

    ProcessServer second = ProcessServer.start(dataDir, inbox, List.of(), List.of());
    WsClient.connect(vertx, second.gatewayPort(), "/ws?user=bob&device=phone", true)
        .compose(bob -> bob.expect("message", count))
        .onComplete(ar -> {
          try {
            second.close();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        })
        .onComplete(ctx.succeeding(messages -> ctx.verify(() -> {
          Set<String> delivered = new HashSet<>();
          for (int i = 0; i < count; i++) {
            assertEquals("durable " + i, messages.get(i).getString("body"));
            assertEquals(i + 1L, messages.get(i).getLong("seq"));
            delivered.add(messages.get(i).getString("msgId"));
          }
          assertTrue(delivered.containsAll(acceptedIds));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a room, its members and every accepted room message survive kill -9; after a restart members get them in roomSeq order")
  void roomMessagesSurviveKill9(Vertx vertx, VertxTestContext ctx) throws Exception {
    int count = 100;
    JsonObject inbox = new JsonObject().put("inbox", new JsonObject().put("engine", "log"));
    JsonObject unlimited = inbox.copy().put("limits", new JsonObject().put("messagesPerSecond", 1_000_000)
        .put("messageBurst", 1_000_000));
    List<String> acceptedIds = new ArrayList<>();
    try (ProcessServer first = ProcessServer.start(dataDir, unlimited, List.of(), List.of())) {
      WsClient alice = WsClient.connect(vertx, first.gatewayPort(), "/ws?user=alice&device=laptop", true)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      Future<Void> setUp = Future.succeededFuture();
      for (JsonObject call : List.of(
          new JsonObject().put("type", "createRoom").put("id", "c").put("room", "team"),
          new JsonObject().put("type", "addMember").put("id", "a1").put("room", "team").put("user", "bob"),
          new JsonObject().put("type", "addMember").put("id", "a2").put("room", "team").put("user", "carol"))) {
        setUp = setUp.compose(v -> alice.send(call)).compose(v -> untilAnswer(alice, call.getString("id")));
      }
      setUp.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      for (int i = 0; i < count; i++) {
        alice.send(new JsonObject().put("type", "send").put("id", "r" + i).put("room", "team").put("body", "durable " + i));
      }
      List<JsonObject> frames = collectAccepted(alice, count, new ArrayList<>())
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      first.kill();
      frames.forEach(f -> acceptedIds.add(f.getString("msgId")));
    }
    assertEquals(count, acceptedIds.size());

    ProcessServer second = ProcessServer.start(dataDir, inbox, List.of(), List.of());
    WsClient.connect(vertx, second.gatewayPort(), "/ws?user=bob&device=phone", true)
        .compose(bob -> bob.expect("room", 2).compose(events -> bob.expect("message", count).map(messages -> {
          ctx.verify(() -> {
            assertEquals(List.of("bob", "carol"), events.stream().map(e -> e.getString("member")).toList());
            for (int i = 0; i < count; i++) {
              JsonObject m = messages.get(i);
              assertEquals("durable " + i, m.getString("body"));
              assertEquals(i + 4L, m.getLong("roomSeq"));
              assertEquals(i + 3L, m.getLong("seq"));
              assertEquals(acceptedIds.get(i), m.getString("msgId"));
            }
          });
          return bob;
        })))
        .compose(bob -> bob.expect("synced").compose(v -> bob.send(new JsonObject().put("type", "members").put("id", "q")
            .put("room", "team"))).compose(v -> bob.expect("members")))
        .onComplete(ar -> {
          try {
            second.close();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        })
        .onComplete(ctx.succeeding(members -> ctx.verify(() -> {
          assertEquals(List.of("alice", "bob", "carol"), members.getJsonArray("members").getList());
          assertEquals(count + 3L, members.getLong("roomSeq"));
          ctx.completeNow();
        })));
  }

  /** Takes frames until the answer to request {@code id} (its room events may come before or after it). */
  private static Future<Void> untilAnswer(WsClient client, String id) {
    return client.nextJson().compose(frame -> {
      if ("error".equals(frame.getString("type"))) {
        return Future.failedFuture(new AssertionError("refused: " + frame.encode()));
      }
      return id.equals(frame.getString("id")) ? Future.succeededFuture() : untilAnswer(client, id);
    });
  }

  /** Takes {@code n} accepted frames, skipping the synced marker. */
  private static Future<List<JsonObject>> collectAccepted(WsClient client, int n, List<JsonObject> into) {
    if (into.size() == n) {
      return Future.succeededFuture(into);
    }
    return client.nextJson().compose(frame -> {
      switch (frame.getString("type")) {
        case "accepted" -> into.add(frame);
        case "synced", "message", "room" -> { }
        default -> {
          return Future.failedFuture(new AssertionError("unexpected " + frame.encode()));
        }
      }
      return collectAccepted(client, n, into);
    });
  }
}
