package dev.switchboard.logging;

import dev.switchboard.support.ProcessServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher with {@code logging.json}: a real server process writes each log event as one JSON
 * object per line, naming the node, and the user and msgId of a stored message.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class JsonLogsIT {

  @TempDir
  Path dataDir;
  ProcessServer server;

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.close();
    }
  }

  @Test
  @DisplayName("with logging.json every Switchboard line is a JSON object with the node id; a stored message's line has its user and msgId")
  void linesAreJson(Vertx vertx, VertxTestContext ctx) throws Exception {
    server = ProcessServer.start(dataDir, new JsonObject().put("logging", new JsonObject().put("json", true).put("level", "DEBUG")),
        List.of(), List.of());
    WsClient.connect(vertx, server.gatewayPort(), "/ws?user=alice&device=laptop", true)
        .compose(alice -> alice.expect("synced").compose(v -> alice.sendMessage("m1", "bob", "hello")).compose(v -> alice.expect("accepted")))
        .compose(accepted -> lineWith(vertx, accepted.getString("msgId")).map(line -> {
          ctx.verify(() -> {
            JsonObject event = new JsonObject(line);
            assertEquals("DEBUG", event.getString("level"));
            assertEquals("local", event.getJsonObject("context").getJsonObject("properties").getString("node"));
            JsonObject pairs = new JsonObject();
            event.getJsonArray("kvpList", new JsonArray()).forEach(kv -> pairs.mergeIn((JsonObject) kv));
            assertEquals("alice", pairs.getString("user"));
            assertEquals(accepted.getString("msgId"), pairs.getString("msgId"));
            for (String each : server.output().split("\n")) {
              if (each.contains("dev.switchboard")) {
                JsonObject parsed = new JsonObject(each); // throws when a line is not one JSON object
                assertTrue(parsed.containsKey("timestamp") && parsed.containsKey("formattedMessage"), each);
              }
            }
          });
          return line;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** The server's output line holding {@code text}, once the process has written it. */
  private Future<String> lineWith(Vertx vertx, String text) {
    for (String line : server.output().split("\n")) {
      if (line.contains(text)) {
        return Future.succeededFuture(line);
      }
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(20, id -> later.complete());
    return later.future().compose(v -> lineWith(vertx, text));
  }
}
