package dev.switchboard.auth;

import dev.switchboard.bus.Addresses;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * In {@code jwt} mode users and back ends are different principals even when a user's {@code sub}
 * is an API key's name: recipients tell a push from a user's message, idempotency keys of one
 * never answer for the other, and event-bus publishers prove who they are with an API key as
 * HTTP callers do.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PushIdentityIT {

  @TempDir
  Path dataDir;
  TestServer server;
  JWTAuth issuer;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(AuthIT.SECRET)));
    TestServer.start(vertx, dataDir, AuthIT.secureConfig()).onComplete(ctx.succeeding(s -> {
      server = s;
      ctx.completeNow();
    }));
  }

  Future<WsClient> connect(Vertx vertx, String user, String device) {
    String token = issuer.generateToken(new JsonObject().put("sub", user), new JWTOptions().setExpiresInSeconds(600));
    return WsClient.connect(vertx, server.gatewayPort(), "/ws?device=" + device + "&token=" + token, true);
  }

  /** Connected, with its (empty) backlog delivered. */
  Future<WsClient> online(Vertx vertx, String user, String device) {
    return connect(vertx, user, device).compose(client -> client.expect("synced").map(client));
  }

  @Test
  @DisplayName("a user named like an API key neither passes for its pushes nor shares its idempotency keys")
  void usersAndBackEndsAreDifferentPrincipals(Vertx vertx, VertxTestContext ctx) {
    Http http = new Http(vertx, server.pushPort());
    JsonObject push = new JsonObject().put("to", "bob").put("body", "your order has shipped");
    Future.all(online(vertx, "shop", "laptop"), online(vertx, "bob", "phone")).compose(both -> {
      WsClient impostor = both.resultAt(0);
      WsClient bob = both.resultAt(1);
      return impostor.sendMessage("k1", "bob", "your order has shipped")
          .compose(v -> impostor.expect("accepted"))
          .compose(v -> bob.expect("message"))
          .compose(fromUser -> http.postJson("/api/v1/messages", push,
                  Map.of("Authorization", "Bearer shop-key", "Idempotency-Key", "k1"))
              // The same key again, now by a key that speaks for shop: another principal.
              .compose(first -> http.postJson("/api/v1/messages", push.copy().put("from", "shop"),
                      Map.of("Authorization", "Bearer ops-key", "Idempotency-Key", "k1"))
                  .map(second -> List.of(first, second)))
              .compose(answers -> bob.expect("message", 2).map(pushes -> {
                ctx.verify(() -> {
                  for (Http.Response answer : answers) {
                    assertEquals(202, answer.status(), answer.body().toString());
                    assertFalse(answer.json().getBoolean("duplicate"), answer.body().toString());
                  }
                  assertEquals("shop", fromUser.getString("from"));
                  assertNull(fromUser.getValue("push"), "a user's message marked as a push: " + fromUser.encode());
                  for (JsonObject pushed : pushes) {
                    assertEquals("shop", pushed.getString("from"));
                    assertEquals(Boolean.TRUE, pushed.getBoolean("push"), pushed.encode());
                  }
                });
                return null;
              })));
    })
        // A device that was offline reads all three from the store: the mark is stored with them.
        .compose(v -> connect(vertx, "bob", "tablet").compose(tablet -> tablet.expect("message", 3)))
        .onComplete(ctx.succeeding(backlog -> ctx.verify(() -> {
          assertNull(backlog.get(0).getValue("push"), backlog.get(0).encode());
          assertEquals(Boolean.TRUE, backlog.get(1).getBoolean("push"), backlog.get(1).encode());
          assertEquals(Boolean.TRUE, backlog.get(2).getBoolean("push"), backlog.get(2).encode());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("in jwt mode switchboard.push needs an API key in the apiKey header, with the HTTP API's rules for from")
  void busPublishersPresentAnApiKey(Vertx vertx, VertxTestContext ctx) {
    JsonObject push = new JsonObject().put("to", "carl").put("body", "receipt");
    Future<Throwable> withoutKey = refusal(vertx.eventBus().request(Addresses.PUSH, push));
    Future<Throwable> wrongKey = refusal(vertx.eventBus().request(Addresses.PUSH, push, withKey("wrong-key")));
    Future<Throwable> notAllowedFrom = refusal(vertx.eventBus().request(Addresses.PUSH,
        push.copy().put("from", "bank"), withKey("shop-key")));
    online(vertx, "carl", "phone").compose(carl -> Future.all(withoutKey, wrongKey, notAllowedFrom)
            .compose(refused -> vertx.eventBus().<JsonObject>request(Addresses.PUSH, push, withKey("shop-key")))
            .compose(asShop -> vertx.eventBus().<JsonObject>request(Addresses.PUSH,
                push.copy().put("from", "billing"), withKey("ops-key")))
            .compose(asBilling -> carl.expect("message", 2)))
        .onComplete(ctx.succeeding(messages -> ctx.verify(() -> {
          assertFailure(ErrorCode.UNAUTHORIZED, withoutKey.result());
          assertFailure(ErrorCode.UNAUTHORIZED, wrongKey.result());
          assertFailure(ErrorCode.FORBIDDEN, notAllowedFrom.result());
          assertEquals("shop", messages.get(0).getString("from"));
          assertEquals("billing", messages.get(1).getString("from"));
          assertTrue(messages.get(1).getBoolean("push"));
          ctx.completeNow();
        })));
  }

  static DeliveryOptions withKey(String key) {
    return new DeliveryOptions().addHeader(Addresses.API_KEY_HEADER, key);
  }

  static Future<Throwable> refusal(Future<?> request) {
    return request.transform(done -> done.succeeded()
        ? Future.failedFuture(new AssertionError("accepted: " + done.result()))
        : Future.succeededFuture(done.cause()));
  }

  static void assertFailure(ErrorCode expected, Throwable failure) {
    ReplyException reply = assertInstanceOf(ReplyException.class, failure);
    assertEquals(expected.failureCode(), reply.failureCode(), reply.getMessage());
  }
}
