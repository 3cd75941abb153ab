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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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

/** What was accepted survives the server process being killed with SIGKILL, on each embedded engine. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class DurabilityIT {

  @TempDir
  Path dataDir;

  @ParameterizedTest(name = "inbox.engine={0}")
  @ValueSource(strings = {"log", "sqlite"})
  @DisplayName("every accepted message survives kill -9 of the server and is delivered, in order, after a restart")
  void acceptedMessagesSurviveKill9(String engine, Vertx vertx, VertxTestContext ctx) throws Exception {
    int count = 300;
    List<String> acceptedIds = new ArrayList<>();
    JsonObject inbox = new JsonObject().put("inbox", new JsonObject().put("engine", engine));
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

  /** Takes {@code n} accepted frames, skipping the synced marker. */
  private static Future<List<JsonObject>> collectAccepted(WsClient client, int n, List<JsonObject> into) {
    if (into.size() == n) {
      return Future.succeededFuture(into);
    }
    return client.nextJson().compose(frame -> {
      switch (frame.getString("type")) {
        case "accepted" -> into.add(frame);
        case "synced" -> { }
        default -> {
          return Future.failedFuture(new AssertionError("unexpected " + frame.encode()));
        }
      }
      return collectAccepted(client, n, into);
    });
  }
}
