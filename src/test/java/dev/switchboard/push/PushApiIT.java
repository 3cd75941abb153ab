package dev.switchboard.push;

import dev.switchboard.bus.Addresses;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The second seed's one-way push, over HTTP and over the event bus. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class PushApiIT {

  @TempDir
  Path dataDir;
  TestServer server;
  Http http;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).onComplete(ctx.succeeding(s -> {
      server = s;
      http = new Http(vertx, s.pushPort());
      ctx.completeNow();
    }));
  }

  @Test
  @DisplayName("a push to an online and an offline user answers 202 with each msgId and who was online; both receive it")
  void pushToOnlineAndOffline(VertxTestContext ctx) {
    server.online("shop-customer", "phone").compose(online -> http.postJson("/api/v1/messages",
                new JsonObject().put("to", new JsonArray().add("shop-customer").add("away-user")).put("body", "order shipped"))
            .compose(response -> online.expect("message").map(message -> {
              ctx.verify(() -> {
                assertEquals(202, response.status());
                JsonArray results = response.json().getJsonArray("results");
                assertEquals("shop-customer", results.getJsonObject(0).getString("to"));
                assertTrue(results.getJsonObject(0).getBoolean("online"));
                assertEquals("away-user", results.getJsonObject(1).getString("to"));
                assertFalse(results.getJsonObject(1).getBoolean("online"));
                assertNotEquals(results.getJsonObject(0).getString("msgId"), results.getJsonObject(1).getString("msgId"));
                assertEquals(results.getJsonObject(0).getString("msgId"), message.getString("msgId"));
                assertEquals("server", message.getString("from"));
                assertEquals("order shipped", message.getString("body"));
              });
              return null;
            })))
        .compose(v -> server.json("away-user", "tablet"))
        .compose(away -> away.expect("message"))
        .onComplete(ctx.succeeding(message -> ctx.verify(() -> {
          assertEquals("order shipped", message.getString("body"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("presence tells whether a user is online and with how many sessions")
  void presence(VertxTestContext ctx) {
    Future.all(server.online("ivy", "phone"), server.online("ivy", "laptop"))
        .compose(v -> Future.all(http.get("/api/v1/users/ivy/presence"), http.get("/api/v1/users/nobody/presence"),
            http.get("/api/v1/users/bad%20id/presence")))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          Http.Response ivy = all.resultAt(0);
          assertEquals(200, ivy.status());
          assertEquals(new JsonObject().put("user", "ivy").put("online", true).put("sessions", 2), ivy.json());
          Http.Response nobody = all.resultAt(1);
          assertEquals(new JsonObject().put("user", "nobody").put("online", false).put("sessions", 0), nobody.json());
          Http.Response bad = all.resultAt(2);
          assertEquals(400, bad.status());
          assertEquals("invalid_user", bad.json().getString("error"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("bad requests get JSON errors with 400, 404, 413 and 415")
  void errors(VertxTestContext ctx) {
    List<Http.Response> responses = new ArrayList<>();
    Future.all(List.of(
            http.request(HttpMethod.POST, "/api/v1/messages", Map.of("Content-Type", "text/plain"), Buffer.buffer("hi")),
            http.request(HttpMethod.POST, "/api/v1/messages", Map.of("Content-Type", "application/json"), Buffer.buffer("{oops")),
            http.postJson("/api/v1/messages", new JsonObject().put("to", "bob")),
            http.postJson("/api/v1/messages", new JsonObject().put("to", "bob").put("body", "x".repeat(65_537))),
            http.postJson("/api/v1/messages", new JsonObject().put("to", "bad|id").put("body", "x")),
            http.get("/api/v1/nothing-here")))
        .compose(all -> {
          for (int i = 0; i < all.size(); i++) {
            responses.add(all.resultAt(i));
          }
          // The body over the limit goes alone, after the others: the server answers 413 before the
          // upload ends, and the requests above must not wait behind that connection.
          return http.request(HttpMethod.POST, "/api/v1/messages", Map.of("Content-Type", "application/json"),
              Buffer.buffer(new byte[1_048_577]));
        })
        .onComplete(ctx.succeeding(tooLarge -> ctx.verify(() -> {
          responses.add(tooLarge);
          int[] statuses = {415, 400, 400, 413, 400, 404, 413};
          String[] codes = {"unsupported_media_type", "bad_json", "missing_field", "too_large", "invalid_user", "not_found", "too_large"};
          for (int i = 0; i < statuses.length; i++) {
            Http.Response response = responses.get(i);
            assertEquals(statuses[i], response.status(), "request " + i);
            assertEquals(codes[i], response.json().getString("error"), "request " + i);
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a push repeated with the same Idempotency-Key is answered again with the same msgId and stored once")
  void idempotencyKey(VertxTestContext ctx) {
    JsonObject push = new JsonObject().put("to", "kim").put("body", "receipt #1");
    Map<String, String> key = Map.of("Idempotency-Key", "order-1");
    http.postJson("/api/v1/messages", push, key)
        .compose(first -> http.postJson("/api/v1/messages", push, key).map(second -> new Http.Response[] {first, second}))
        .compose(both -> http.postJson("/api/v1/messages", new JsonObject().put("to", "kim").put("body", "receipt #2"))
            .compose(v -> server.json("kim", "phone"))
            .compose(kim -> kim.expect("message", 2))
            .map(messages -> {
              ctx.verify(() -> {
                JsonObject first = both[0].json().getJsonArray("results").getJsonObject(0);
                JsonObject second = both[1].json().getJsonArray("results").getJsonObject(0);
                assertEquals(first.getString("msgId"), second.getString("msgId"));
                assertTrue(both[1].json().getBoolean("duplicate"));
                assertEquals("receipt #1", messages.get(0).getString("body"));
                assertEquals("receipt #2", messages.get(1).getString("body"));
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a switchboard.push refused for every recipient fails with the refusal's failure code, as HTTP answers 409")
  void refusedBusPushFails(Vertx vertx, VertxTestContext ctx) {
    JsonObject first = new JsonObject().put("to", "kim").put("body", "receipt #1").put("idempotencyKey", "order-7");
    JsonObject reused = first.copy().put("body", "receipt #2");
    vertx.eventBus().<JsonObject>request(Addresses.PUSH, first)
        // Both doors of one node, without API keys (insecure mode): one sender, one key scope.
        .compose(stored -> http.postJson("/api/v1/messages", new JsonObject().put("to", "kim").put("body", "receipt #2"),
                Map.of("Idempotency-Key", "order-7"))
            .compose(overHttp -> vertx.eventBus().<JsonObject>request(Addresses.PUSH, reused)
                .transform(done -> Future.succeededFuture(new Object[] {overHttp, done}))))
        .onComplete(ctx.succeeding(answers -> ctx.verify(() -> {
          Http.Response overHttp = (Http.Response) answers[0];
          assertEquals(409, overHttp.status(), overHttp.body().toString());
          io.vertx.core.AsyncResult<?> overBus = (io.vertx.core.AsyncResult<?>) answers[1];
          assertTrue(overBus.failed(), () -> "answered as stored: " + overBus.result());
          ReplyException failure = (ReplyException) overBus.cause();
          assertEquals(dev.switchboard.protocol.ErrorCode.ID_REUSED.failureCode(), failure.failureCode());
          assertEquals(io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE, failure.failureType());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a text (seed) client with gateway.textPrefixSender sees a push's sender name alone, as FROM|CONTENT")
  void textClientsSeeThePushersName(Vertx vertx, VertxTestContext ctx) {
    JsonObject prefixed = new JsonObject().put("gateway", new JsonObject().put("textPrefixSender", true));
    TestServer.start(vertx, dataDir.resolve("prefixed"), prefixed).compose(other -> other.text("tina")
            .compose(tina -> new Http(vertx, other.pushPort()).postJson("/api/v1/messages",
                    new JsonObject().put("to", "tina").put("body", "hello").put("from", "shop"))
                .compose(pushed -> tina.texts(1))))
        .onComplete(ctx.succeeding(texts -> ctx.verify(() -> {
          assertEquals(List.of("shop|hello"), texts);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("GET /health reports the inbox as up")
  void health(VertxTestContext ctx) {
    http.get("/health").onComplete(ctx.succeeding(response -> ctx.verify(() -> {
      assertEquals(200, response.status());
      assertEquals("UP", response.json().getString("outcome"));
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("the push API answers CORS preflights from configured origins only")
  void cors(VertxTestContext ctx) {
    Map<String, String> allowed = Map.of("Origin", "http://127.0.0.1:8080", "Access-Control-Request-Method", "POST",
        "Access-Control-Request-Headers", "content-type");
    Map<String, String> other = Map.of("Origin", "http://evil.example", "Access-Control-Request-Method", "POST");
    Future.all(http.request(HttpMethod.OPTIONS, "/api/v1/messages", allowed, null),
            http.request(HttpMethod.OPTIONS, "/api/v1/messages", other, null))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          Http.Response ok = all.resultAt(0);
          assertEquals("http://127.0.0.1:8080", ok.headers().get("Access-Control-Allow-Origin"));
          Http.Response refused = all.resultAt(1);
          assertNull(refused.headers().get("Access-Control-Allow-Origin"));
          assertEquals(403, refused.status());
          assertEquals("forbidden", refused.json().getString("error"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a request to switchboard.push on the event bus gets the same answer as the HTTP API")
  void eventBusPush(Vertx vertx, VertxTestContext ctx) {
    server.online("lee", "phone").compose(lee -> vertx.eventBus()
            .<JsonObject>request(Addresses.PUSH, new JsonObject().put("to", "lee").put("body", "from a verticle").put("from", "billing"))
            .compose(reply -> lee.expect("message").map(message -> {
              ctx.verify(() -> {
                JsonObject result = reply.body().getJsonArray("results").getJsonObject(0);
                assertTrue(result.getBoolean("online"));
                assertEquals(result.getString("msgId"), message.getString("msgId"));
                assertEquals("billing", message.getString("from"));
              });
              return null;
            })))
        .compose(v -> vertx.eventBus().request(Addresses.PUSH, new JsonObject().put("to", "lee")))
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          ReplyException failure = (ReplyException) e;
          assertEquals(dev.switchboard.protocol.ErrorCode.MISSING_FIELD.failureCode(), failure.failureCode());
          ctx.completeNow();
        })));
  }
}
