package dev.switchboard.gateway;

import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets a clear error, and the connection keeps working afterwards. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class BadInputIT {

  /** 21,845 three-byte characters and one ASCII letter: exactly 65,536 bytes of UTF-8. */
  static final String BODY_64_KIB = "你".repeat(21_845) + "a";

  @TempDir
  Path dataDir;
  TestServer server;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).onComplete(ctx.succeeding(s -> {
      server = s;
      ctx.completeNow();
    }));
  }

  /** Sends a frame, expects an error with the code, then proves the connection still delivers. */
  private Future<JsonObject> errorThenStillWorks(WsClient client, String frame, String code) {
    return client.send(frame)
        .compose(v -> client.expect("error"))
        .compose(error -> {
          if (!code.equals(error.getString("code"))) {
            return Future.failedFuture(new AssertionError("expected " + code + ", got " + error.encode()));
          }
          return client.sendMessage("after-" + code, "nobody", "still here")
              .compose(v -> client.expect("accepted"))
              .map(accepted -> error);
        });
  }

  @Test
  @DisplayName("malformed JSON, unknown type, missing and wrong fields, bad user ids each get their error code")
  void eachMistakeHasItsCode(VertxTestContext ctx) {
    server.online("alice", "laptop").compose(alice -> errorThenStillWorks(alice, "{not json", "bad_json")
        .compose(v -> errorThenStillWorks(alice, "[1,2,3]", "bad_json"))
        .compose(v -> errorThenStillWorks(alice, "{\"type\":\"fly\"}", "unknown_type"))
        .compose(v -> errorThenStillWorks(alice, "{\"body\":\"x\"}", "missing_field"))
        .compose(v -> errorThenStillWorks(alice, "{\"type\":\"send\",\"id\":\"s1\",\"to\":\"bob\"}", "missing_field"))
        .compose(error -> {
          ctx.verify(() -> assertEquals("s1", error.getString("id")));
          return errorThenStillWorks(alice, "{\"type\":\"send\",\"id\":\"s2\",\"to\":\"bob\",\"body\":42}", "invalid_field");
        })
        .compose(v -> errorThenStillWorks(alice, "{\"type\":\"send\",\"id\":\"s3\",\"to\":\"bad user\",\"body\":\"x\"}", "invalid_user"))
        .compose(v -> errorThenStillWorks(alice, "{\"type\":\"send\",\"id\":\"s4\",\"to\":\"\",\"body\":\"x\"}", "invalid_user"))
        .compose(v -> errorThenStillWorks(alice, "{\"type\":\"ack\",\"seq\":99}", "invalid_ack"))
        .compose(v -> errorThenStillWorks(alice, "{\"type\":\"ack\",\"seq\":-1}", "invalid_field"))
        .compose(v -> errorThenStillWorks(alice, "{\"type\":\"hello\",\"device\":\"again\"}", "bad_state")))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a connection with an invalid user id is told why and closed with 1008")
  void invalidUserIdIsRefused(Vertx vertx, VertxTestContext ctx) {
    String tooLong = "u".repeat(65);
    Future.all(
            WsClient.connect(vertx, server.gatewayPort(), "/ws?user=" + tooLong + "&device=d", true)
                .compose(c -> c.expect("error").compose(e -> c.closed().map(code -> List.of(e.getString("code"), code)))),
            WsClient.connect(vertx, server.gatewayPort(), "/ws?user=", false)
                .compose(c -> c.next().compose(e -> c.closed().map(code -> List.of(e, code)))),
            WsClient.connect(vertx, server.gatewayPort(), "/ws?user=a%0Ab", false)
                .compose(c -> c.next().compose(e -> c.closed().map(code -> List.of(e, code)))))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertEquals(List.of("invalid_user", (short) 1008), all.resultAt(0));
          List<Object> empty = all.resultAt(1);
          assertTrue(((String) empty.get(0)).startsWith("ERROR|invalid_user|"), empty.toString());
          assertEquals((short) 1008, empty.get(1));
          List<Object> control = all.resultAt(2);
          assertTrue(((String) control.get(0)).startsWith("ERROR|invalid_user|"), control.toString());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a 64 KiB body arrives whole; 64 KiB + 1 is refused with too_large and the connection keeps working")
  void bodyLimit(VertxTestContext ctx) {
    server.online("bob", "phone").compose(bob -> server.online("alice", "laptop")
        .compose(alice -> alice.sendMessage("big", "bob", BODY_64_KIB)
            .compose(v -> alice.expect("accepted"))
            .compose(v -> bob.expect("message"))
            .compose(message -> {
              ctx.verify(() -> assertEquals(BODY_64_KIB, message.getString("body")));
              return errorThenStillWorks(alice, new JsonObject().put("type", "send").put("id", "too-big")
                  .put("to", "bob").put("body", BODY_64_KIB + "b").encode(), "too_large");
            })
            .map(error -> {
              ctx.verify(() -> assertEquals("too-big", error.getString("id")));
              return null;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a text message split into fragments, even inside a UTF-8 character, arrives whole")
  void fragmentedTextFrame(VertxTestContext ctx) {
    byte[] content = BODY_64_KIB.getBytes(StandardCharsets.UTF_8);
    server.text("bob").compose(bob -> server.text("alice").compose(alice -> {
      alice.socket().writeFrame(WebSocketFrame.textFrame("bob|", false));
      int[] cuts = {1, 1000, 30_001, 65_535};
      int from = 0;
      for (int i = 0; i < cuts.length; i++) {
        alice.socket().writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(java.util.Arrays.copyOfRange(content, from, cuts[i])), false));
        from = cuts[i];
      }
      alice.socket().writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(java.util.Arrays.copyOfRange(content, from, content.length)), true));
      return bob.next();
    })).onComplete(ctx.succeeding(text -> ctx.verify(() -> {
      assertEquals(BODY_64_KIB, text);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("text clients: oversized content, binary frames, invalid UTF-8 and a first frame without a recipient are reported")
  void textFormatErrors(VertxTestContext ctx) {
    server.text("bob").compose(bob -> server.text("alice").compose(alice -> alice.send("no recipient yet")
        .compose(v -> alice.next())
        .compose(e1 -> alice.send("bob|" + BODY_64_KIB + "x").compose(v -> alice.next()).map(e2 -> List.of(e1, e2)))
        .compose(errors -> alice.sendBinary(Buffer.buffer(new byte[] {1, 2, 3})).compose(v -> alice.next())
            .map(e3 -> List.of(errors.get(0), errors.get(1), e3)))
        .compose(errors -> {
          return alice.send("bob|still works").compose(v -> bob.next()).map(delivered -> {
            ctx.verify(() -> {
              assertTrue(errors.get(0).startsWith("ERROR|no_recipient|"), errors.get(0));
              assertTrue(errors.get(1).startsWith("ERROR|too_large|"), errors.get(1));
              assertTrue(errors.get(2).startsWith("ERROR|unsupported_frame|"), errors.get(2));
              assertEquals("still works", delivered);
            });
            return null;
          });
        })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("text delivered to seed clients is HTML-escaped by default, so the seed page cannot be scripted")
  void textDeliveryIsEscaped(VertxTestContext ctx) {
    server.text("bob").compose(bob -> server.text("alice")
        .compose(alice -> alice.send("bob|<img src=x onerror=alert(1)> & \"q\" 'a'"))
        .compose(v -> bob.next()))
        .onComplete(ctx.succeeding(text -> ctx.verify(() -> {
          assertEquals("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot; &#39;a&#39;", text);
          ctx.completeNow();
        })));
  }
}
