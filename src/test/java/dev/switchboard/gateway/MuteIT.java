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
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A mute answered by its id, and the stored mute state read back with a {@code muted} query, over real sockets. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class MuteIT {

  @TempDir
  Path dataDir;

  private static JsonObject frame(String type, String id) {
    return new JsonObject().put("type", type).put("id", id);
  }

  /** Sends {@code request} and takes its answer, the next frame. */
  private static Future<JsonObject> ask(WsClient client, JsonObject request) {
    return client.send(request).compose(v -> client.nextJson());
  }

  @Test
  @DisplayName("a mute with an id is answered with that id; a muted query tells each stored setting, also after a restart")
  void queryAfterRestart(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(first -> first.online("carol", "phone")
            .compose(carol -> ask(carol, frame("mute", "m-1").put("room", "team").put("muted", true))
                .compose(answer -> {
                  ctx.verify(() -> assertEquals(frame("muted", "m-1").put("room", "team").put("muted", true), answer));
                  return ask(carol, frame("mute", "m-2").put("peer", "alice").put("muted", true));
                })
                .compose(answer -> ask(carol, frame("mute", "m-3").put("peer", "alice").put("muted", false)))
                .compose(answer -> {
                  ctx.verify(() -> assertEquals(frame("muted", "m-3").put("peer", "alice").put("muted", false), answer));
                  return carol.close();
                }))
            .compose(v -> first.stop()))
        .compose(v -> TestServer.start(vertx, dataDir))
        .compose(server -> server.online("carol", "laptop").compose(carol ->
            ask(carol, frame("muted", "q-1").put("room", "team"))
                .compose(team -> ask(carol, frame("muted", "q-2").put("peer", "alice")).compose(alice ->
                    ask(carol, frame("muted", "q-3")).map(everyone -> {
                      ctx.verify(() -> {
                        assertEquals(frame("muted", "q-1").put("room", "team").put("muted", true), team);
                        assertEquals(frame("muted", "q-2").put("peer", "alice").put("muted", false), alice);
                        assertEquals(frame("muted", "q-3").put("muted", false), everyone);
                      });
                      return null;
                    })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a refused mute or muted query names its id; a mute without an id is still answered without one")
  void refusalsNameTheId(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("dave", "phone").compose(dave ->
            ask(dave, frame("mute", "m-9").put("peer", "bad id").put("muted", true))
                .compose(refused -> ask(dave, frame("muted", "q-9").put("peer", "bob").put("room", "team"))
                    .compose(refusedQuery -> ask(dave, new JsonObject().put("type", "mute").put("muted", true))
                        .map(plain -> {
                          ctx.verify(() -> {
                            assertEquals("error", refused.getString("type"));
                            assertEquals("m-9", refused.getString("id"));
                            assertEquals("invalid_user", refused.getString("code"));
                            assertEquals("q-9", refusedQuery.getString("id"));
                            assertEquals("invalid_field", refusedQuery.getString("code"));
                            assertEquals(new JsonObject().put("type", "muted").put("muted", true), plain);
                          });
                          return null;
                        })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("mutes of one setting sent back to back, without waiting for answers, leave the last one's value")
  void backToBackMutesKeepTheLast(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> server.online("erin", "phone").compose(erin ->
            erin.send(frame("mute", "m-1").put("peer", "frank").put("muted", true))
                .compose(v -> erin.send(frame("mute", "m-2").put("peer", "frank").put("muted", false)))
                .compose(v -> erin.send(frame("mute", "m-3").put("room", "news").put("muted", true)))
                .compose(v -> erin.send(frame("mute", "m-4").put("room", "news").put("muted", false)))
                .compose(v -> erin.send(frame("mute", "m-5").put("room", "news").put("muted", true)))
                .compose(v -> erin.expect("muted", 5))
                .compose(answers -> ask(erin, frame("muted", "q-1").put("peer", "frank")).compose(frank ->
                    ask(erin, frame("muted", "q-2").put("room", "news")).map(news -> {
                      ctx.verify(() -> {
                        assertEquals(List.of("m-1", "m-2", "m-3", "m-4", "m-5"), answers.stream().map(a -> a.getString("id")).toList());
                        assertEquals(false, frank.getBoolean("muted"));
                        assertEquals(true, news.getBoolean("muted"));
                      });
                      return null;
                    })))))
        .onComplete(ctx.succeedingThenComplete());
  }
}
