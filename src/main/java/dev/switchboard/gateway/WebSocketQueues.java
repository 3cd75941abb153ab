package dev.switchboard.gateway;

import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;

/**
 * Drops the cross-thread write queue Vert.x 5.0 gives every WebSocket connection.
 *
 * <p>Each Vert.x connection queues writes that come from other threads; the queue is a Netty MPSC
 * queue whose first chunk is allocated up front. The gateway's HTTP server
 * runs in strict thread mode, which replaces that queue by a direct one for HTTP connections, but in
 * Vert.x 5.0.10 the connection a WebSocket upgrade creates ({@code WebSocketConnectionImpl}) does
 * not take the option and always builds the queue, a large part of the heap an idle session
 * costs. The gateway writes to a socket only from the socket's own event loop (its verticle
 * instance's context), which is what strict mode requires, so each accepted WebSocket gets Vert.x's
 * own direct queue instead, the one strict mode uses. Found by reflection: if a Vert.x version no
 * longer has these members, nothing is changed and that is logged once.
 */
final class WebSocketQueues {

  private static final Logger LOG = LoggerFactory.getLogger(WebSocketQueues.class);

  private static final Field CONNECTION;
  private static final Field QUEUE;
  private static final Constructor<?> DIRECT_QUEUE;

  static {
    Field connection = null;
    Field queue = null;
    Constructor<?> direct = null;
    try {
      connection = Class.forName("io.vertx.core.http.impl.WebSocketImplBase").getDeclaredField("conn");
      Class<?> vertxConnection = Class.forName("io.vertx.core.net.impl.VertxConnection");
      queue = vertxConnection.getDeclaredField("outboundMessageQueue");
      direct = Class.forName("io.vertx.core.net.impl.VertxConnection$DirectOutboundMessageQueue")
          .getDeclaredConstructor(vertxConnection);
      connection.setAccessible(true);
      queue.setAccessible(true);
      direct.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.info("WebSocket connections keep Vert.x's cross-thread write queue (~4 KiB each): {}", e.toString());
      connection = null;
      queue = null;
      direct = null;
    }
    CONNECTION = connection;
    QUEUE = queue;
    DIRECT_QUEUE = direct;
  }

  private WebSocketQueues() {
  }

  /**
   * Gives a just accepted socket the direct queue; call on the socket's event loop before anything
   * is written to it. Returns whether it was changed.
   */
  static boolean useDirectQueue(ServerWebSocket socket) {
    if (DIRECT_QUEUE == null || !CONNECTION.getDeclaringClass().isInstance(socket)) {
      return false;
    }
    try {
      Object connection = CONNECTION.get(socket);
      QUEUE.set(connection, DIRECT_QUEUE.newInstance(connection));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("keeping the write queue of a WebSocket: {}", e.toString());
      return false;
    }
  }

  /** Whether the socket writes through the direct queue (for tests). */
  static boolean hasDirectQueue(ServerWebSocket socket) throws ReflectiveOperationException {
    return DIRECT_QUEUE != null
        && QUEUE.get(CONNECTION.get(socket)).getClass() == DIRECT_QUEUE.getDeclaringClass();
  }
}
