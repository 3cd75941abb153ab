package dev.switchboard.gateway;

import dev.switchboard.bus.Addresses;
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

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed page's exact conversation: {@code /Handler1.ashx?user=ID}, no subprotocol, frames
 * {@code TO|CONTENT}, every received frame shown as a line. Its defects must be gone: long
 * messages are not cut at 2048 bytes, and offline messages wait for the user.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class SeedPageIT {

  @TempDir
  Path dataDir;

  static final String LONG = "长消息".repeat(2_000);

  @Test
  @DisplayName("the seed page connects at /Handler1.ashx, chats, and gets offline messages on reconnect")
  void seedConversation(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir).compose(server -> {
      int port = server.gatewayPort();
      return WsClient.connect(vertx, port, "/Handler1.ashx?user=A", false).compose(a ->
          WsClient.connect(vertx, port, "/Handler1.ashx?user=B", false).compose(b -> a.send("B|A你好,我是B!")
                  .compose(v -> b.next())
                  .compose(first -> b.send("A|" + LONG).compose(v -> a.next()).map(reply -> List.of(first, reply)))
                  .compose(live -> b.close().map(live)))
              .compose(live -> a.send("B|离线消息 1").compose(v -> a.send("B|离线消息 2")).map(live))
              // A round trip for A after its sends: both were stored before B comes back.
              .compose(live -> a.send("A|note").compose(v -> a.next()).map(live))
              .compose(live -> WsClient.connect(vertx, port, "/Handler1.ashx?user=B", false)
                  .compose(b -> b.texts(2))
                  .map(offline -> {
                    ctx.verify(() -> {
                      assertEquals("A你好,我是B!", live.get(0));
                      assertEquals(LONG, live.get(1));
                      assertEquals(List.of("离线消息 1", "离线消息 2"), offline);
                    });
                    return null;
                  })));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with gateway.textPrefixSender the FROM| part is HTML-escaped like the content")
  void senderPrefixIsEscaped(Vertx vertx, VertxTestContext ctx) {
    String sender = "<svg/onload=alert(1)>";
    JsonObject prefixed = new JsonObject().put("gateway", new JsonObject().put("textPrefixSender", true));
    TestServer.start(vertx, dataDir, prefixed).compose(server -> {
      int port = server.gatewayPort();
      String senderUri = "/Handler1.ashx?user=" + URLEncoder.encode(sender, StandardCharsets.UTF_8);
      return WsClient.connect(vertx, port, "/Handler1.ashx?user=B", false).compose(b ->
          WsClient.connect(vertx, port, senderUri, false).compose(a -> a.send("B|<b>hi</b>"))
              .compose(v -> b.next()));
    }).onComplete(ctx.succeeding(line -> ctx.verify(() -> {
      assertEquals("&lt;svg/onload=alert(1)&gt;|&lt;b&gt;hi&lt;/b&gt;", line);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("an error line that names the user is HTML-escaped for text clients, like deliveries")
  void errorLinesAreEscaped(Vertx vertx, VertxTestContext ctx) {
    String user = "<svg/onload=alert(1)>";
    JsonObject oneSession = new JsonObject().put("limits", new JsonObject().put("maxSessionsPerUser", 1));
    String uri = "/Handler1.ashx?user=" + URLEncoder.encode(user, StandardCharsets.UTF_8);
    TestServer.start(vertx, dataDir, oneSession).compose(server ->
        WsClient.connect(vertx, server.gatewayPort(), uri, false)
            .compose(first -> WsClient.connect(vertx, server.gatewayPort(), uri, false))
            .compose(WsClient::next)
    ).onComplete(ctx.succeeding(line -> ctx.verify(() -> {
      assertTrue(line.startsWith("ERROR|too_many_sessions|"), line);
      assertFalse(line.contains("<"), line);
      assertTrue(line.contains("&lt;svg/onload=alert(1)&gt;"), line);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a text client is told of messages that expired before it received them, once, with a GAP line in seq order")
  void expiredMessagesAreAnnounced(Vertx vertx, VertxTestContext ctx) {
    JsonObject shortRetention = new JsonObject().put("inbox", new JsonObject().put("retentionSeconds", 1));
    TestServer.start(vertx, dataDir, shortRetention).compose(server -> {
      int port = server.gatewayPort();
      return pushToCarol(vertx, "<old 1>").compose(ts -> pushToCarol(vertx, "<old 2>")).compose(ts -> pushToCarol(vertx, "<old 3>"))
          // Retention goes by the clock: wait until the newest of them is past it.
          .compose(ts -> vertx.timer(Math.max(1, ts + 1_000 + 50 - System.currentTimeMillis()), TimeUnit.MILLISECONDS))
          .compose(v -> WsClient.connect(vertx, port, "/Handler1.ashx?user=carol", false))
          .compose(carol -> carol.next().compose(gap -> carol.close().map(gap)))
          // Told once: the next connection starts after the gap, with the message sent meanwhile.
          .compose(gap -> pushToCarol(vertx, "<new>").map(gap))
          .compose(gap -> WsClient.connect(vertx, port, "/Handler1.ashx?user=carol", false)
              .compose(carol -> carol.next()).map(next -> List.of(gap, next)));
    }).onComplete(ctx.succeeding(lines -> ctx.verify(() -> {
      assertEquals("GAP|1|3|3 messages expired before they could be delivered", lines.get(0));
      assertEquals("&lt;new&gt;", lines.get(1));
      ctx.completeNow();
    })));
  }

  /** Pushes one message from alice to carol; the stored message's timestamp. */
  private static Future<Long> pushToCarol(Vertx vertx, String body) {
    JsonObject push = new JsonObject().put("from", "alice").put("to", "carol").put("body", body);
    return vertx.eventBus().<JsonObject>request(Addresses.PUSH, push)
        .map(reply -> reply.body().getJsonArray("results").getJsonObject(0).getLong("ts"));
  }
}
