package dev.switchboard.gateway;

import dev.switchboard.vertx.VertxInternals;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.http.ServerWebSocket;

/**
 * Takes Vert.x's idle-state handler out of an accepted WebSocket's pipeline. The server's idle
 * timeout is for plain HTTP connections (a keep-alive connection that falls silent); once a socket
 * is a session, the gateway's heartbeat watches it: it pings, and closes with 4000 a connection not
 * heard from for {@code gateway.idleTimeoutSeconds}. The handler would do that job a second time,
 * at a cost on every frame (each write gets a promise of its own and a listener that notes the time,
 * each read a clock read) and a timer per connection kept queued on its event loop.
 */
final class IdleHandlerRemoval {

  private IdleHandlerRemoval() {
  }

  /** Removes the handler from an accepted socket; call on its event loop. Returns whether there was one. */
  static boolean apply(ServerWebSocket socket) {
    ChannelHandlerContext vertx = VertxInternals.handlerContext(socket);
    if (vertx == null) {
      return false;
    }
    ChannelPipeline pipeline = vertx.pipeline();
    if (pipeline.get(IdleStateHandler.class) == null) {
      return false;
    }
    pipeline.remove(IdleStateHandler.class);
    return true;
  }

  /** Whether the socket still has an idle-state handler (for tests). */
  static boolean present(ServerWebSocket socket) {
    ChannelHandlerContext vertx = VertxInternals.handlerContext(socket);
    return vertx != null && vertx.pipeline().get(IdleStateHandler.class) != null;
  }
}
