package dev.switchboard.support;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The test client itself: tests wait for frames from their own thread while frames arrive on an event loop. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class WsClientTest {

  private static final int FRAMES = 200_000;

  @Test
  @DisplayName("frames streaming in on the event loop while the test thread takes them one by one all arrive, in order")
  void framesStreamingInReachATestThreadInOrder(Vertx vertx) throws Exception {
    HttpServer server = vertx.createHttpServer()
        .webSocketHandler(ws -> stream(ws, 0))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    WsClient client = WsClient.connect(vertx, server.actualPort(), "/", false)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    for (int i = 0; i < FRAMES; i++) {
      String frame = client.next().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(Integer.toString(i), frame);
    }
    client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Writes frames {@code from}.. as fast as the socket takes them. */
  private static void stream(ServerWebSocket ws, int from) {
    int i = from;
    while (i < FRAMES && !ws.writeQueueFull()) {
      ws.writeTextMessage(Integer.toString(i++));
    }
    if (i < FRAMES) {
      int next = i;
      ws.drainHandler(v -> stream(ws, next));
    }
  }
}
