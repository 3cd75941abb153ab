package dev.switchboard.bench;

import io.vertx.core.http.WebSocketClient;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

class LoopTest {

  /**
   * Vert.x 5 wraps each client in a Cleaner: a collected client closes every WebSocket it opened
   * (close code 1000), so a run whose users sit idle would lose them all at the next collection.
   */
  @Test
  @DisplayName("the WebSocket clients a loop makes stay reachable through it after a full collection")
  void clientsOutliveACollection() {
    try (Loop loop = new Loop()) {
      WeakReference<WebSocketClient> client = new WeakReference<>(loop.call(() -> loop.wsClients(1, 1_000)).get(0));
      WeakReference<Object> sentinel = new WeakReference<>(new Object());
      // A cleared sentinel proves a collection ran that would have cleared an unreachable client as well.
      for (int i = 0; i < 50 && sentinel.get() != null; i++) {
        System.gc();
      }
      assertNull(sentinel.get(), "no full collection ran");
      assertNotNull(client.get(), "the loop let go of a client it made; its sockets close when it is collected");
    }
  }
}
