package dev.switchboard.gateway;

import dev.switchboard.support.Http;
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
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** limits.maxSessionsPerUser holds whichever way a session starts. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class SessionLimitIT {

  static final int LIMIT = 20;

  @TempDir
  Path dataDir;

  /** Connects without device, then says hello; answers "synced" or "code closeCode" when refused. */
  private static Future<String> helloLater(Vertx vertx, int port, String user, String device) {
    return WsClient.connect(vertx, port, "/ws?user=" + user, true).compose(client -> client
        .send(new JsonObject().put("type", "hello").put("device", device))
        .recover(e -> Future.succeededFuture()) // a refused connection may already be closed
        .compose(v -> client.nextJson())
        .compose(frame -> "synced".equals(frame.getString("type"))
            ? Future.succeededFuture("synced")
            : client.closed().map(code -> frame.getString("code") + " " + code)));
  }

  @Test
  @DisplayName("connections without device that say hello later count against limits.maxSessionsPerUser")
  void helloLaterCountsAgainstTheLimit(Vertx vertx, VertxTestContext ctx) {
    JsonObject config = new JsonObject().put("limits", new JsonObject().put("maxSessionsPerUser", LIMIT));
    TestServer.start(vertx, dataDir, config).compose(server -> {
      List<Future<String>> outcomes = new ArrayList<>();
      for (int i = 0; i < LIMIT + 5; i++) {
        outcomes.add(helloLater(vertx, server.gatewayPort(), "ivy", "d" + i));
      }
      return Future.join(outcomes).compose(all -> new Http(vertx, server.pushPort()).get("/api/v1/users/ivy/presence")
          .map(presence -> {
            List<String> results = new ArrayList<>();
            outcomes.forEach(o -> results.add(o.result()));
            ctx.verify(() -> {
              assertEquals(LIMIT, results.stream().filter("synced"::equals).count(), results.toString());
              assertEquals(5, results.stream().filter("too_many_sessions 1008"::equals).count(), results.toString());
              assertEquals(LIMIT, presence.json().getInteger("sessions"), presence.json().encode());
            });
            return null;
          }));
    }).onComplete(ctx.succeedingThenComplete());
  }
}
