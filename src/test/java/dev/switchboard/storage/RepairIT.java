package dev.switchboard.storage;

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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A damaged log through the real server: the start is refused, a start with
 * {@code inbox.logRepair=true} keeps the rest, and a device catching up is told of the lost
 * message by a gap frame, in order, between the messages around it.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class RepairIT {

  @TempDir
  Path dataDir;

  /** Sends {@code n} messages to bob one after another, each answered before the next. */
  private static Future<Void> sendEach(WsClient alice, int n) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 1; i <= n; i++) {
      int k = i;
      chain = chain.compose(v -> alice.sendMessage("s" + k, "bob", "message " + k))
          .compose(v -> alice.expect("accepted")).mapEmpty();
    }
    return chain;
  }

  private static Future<List<JsonObject>> frames(WsClient client, int n, List<JsonObject> into) {
    if (into.size() == n) {
      return Future.succeededFuture(into);
    }
    return client.nextJson().compose(frame -> {
      into.add(frame);
      return frames(client, n, into);
    });
  }

  @Test
  @DisplayName("after a repair of a damaged record, a catching-up device gets the other messages and a gap frame for the lost one")
  void repairedLossIsAGap(Vertx vertx, VertxTestContext ctx) {
    JsonObject repair = new JsonObject().put("inbox", new JsonObject().put("logRepair", true));
    TestServer.start(vertx, dataDir)
        .compose(server -> server.online("alice", "laptop")
            .compose(alice -> sendEach(alice, 10).compose(v -> alice.close()))
            .compose(v -> server.stop()))
        .compose(v -> vertx.executeBlocking(() -> {
          List<Path> segments = LogTestSupport.segments(dataDir);
          Path newest = segments.get(segments.size() - 1);
          List<Long> records = LogTestSupport.recordOffsets(newest);
          assertTrue(records.size() >= 10, "one record per send: " + records);
          // The fifth send's record (the last ten records are the ten sends).
          int fifth = records.size() - 6;
          LogTestSupport.flipByte(newest, (records.get(fifth) + records.get(fifth + 1)) / 2);
          return null;
        }))
        .compose(v -> TestServer.start(vertx, dataDir)
            .transform(ar -> {
              ctx.verify(() -> {
                assertTrue(ar.failed(), "a damaged log is not started without repair");
                assertTrue(ar.cause().getMessage().contains("inbox.logRepair"), ar.cause().getMessage());
              });
              return TestServer.start(vertx, dataDir, repair);
            }))
        .compose(server -> server.json("bob", "phone")
            .compose(bob -> frames(bob, 11, new ArrayList<>()).compose(got -> bob.close().map(got)))
            .eventually(server::stop))
        .onComplete(ctx.succeeding(got -> ctx.verify(() -> {
          List<String> seen = new ArrayList<>();
          for (JsonObject frame : got) {
            switch (frame.getString("type")) {
              case "message" -> seen.add(frame.getLong("seq") + ":" + frame.getString("body"));
              case "gap" -> seen.add("gap " + frame.getLong("from") + "-" + frame.getLong("to"));
              default -> seen.add(frame.getString("type"));
            }
          }
          assertEquals(List.of("1:message 1", "2:message 2", "3:message 3", "4:message 4", "gap 5-5",
              "6:message 6", "7:message 7", "8:message 8", "9:message 9", "10:message 10", "synced"), seen);
          ctx.completeNow();
        })));
  }
}
