package dev.switchboard.gateway;

import dev.switchboard.vertx.VertxInternals;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;

/**
 * WebSocket per-message compression whose inflated size is bounded while inflating.
 *
 * <p>Vert.x negotiates {@code permessage-deflate} with Netty's handshaker and no inflation limit:
 * {@code maxWebSocketFrameSize} bounds the compressed frame, and a frame within it can inflate a
 * thousandfold on the event loop before any size check runs. Here the extension handler Vert.x puts
 * into each new connection's pipeline is replaced by one whose decoder stops with a
 * {@code DecompressionException} as soon as a frame's inflated bytes pass the limit
 * ({@link ProtocolViolationClose} turns that into a 1009 close). Vert.x exposes neither the
 * handshakers nor a new connection's pipeline, so this reaches the pipeline through
 * {@link VertxInternals}; where that fails, the connection is refused rather than left unbounded.
 */
final class BoundedCompression {

  private BoundedCompression() {
  }

  /** Whether this Vert.x version lets the limit be installed; without it compression must stay off. */
  static boolean available() {
    return VertxInternals.connectionPipelineAvailable();
  }

  /**
   * Puts the bounded extension handler in place of Vert.x's in a just accepted HTTP connection
   * (before its first request is read). Returns false when it could not: the caller must then close
   * the connection.
   */
  static boolean install(HttpConnection connection, int maxInflatedBytes) {
    ChannelPipeline pipeline = VertxInternals.pipeline(connection);
    WebSocketServerExtensionHandler vertxHandler = pipeline == null ? null : pipeline.get(WebSocketServerExtensionHandler.class);
    if (vertxHandler == null) {
      return false;
    }
    pipeline.replace(vertxHandler, pipeline.context(vertxHandler).name(), new WebSocketServerExtensionHandler(
        new PerMessageDeflateServerExtensionHandshaker(HttpServerOptions.DEFAULT_WEBSOCKET_COMPRESSION_LEVEL,
            ZlibCodecFactory.isSupportingWindowSizeAndMemLevel(), PerMessageDeflateServerExtensionHandshaker.MAX_WINDOW_SIZE,
            HttpServerOptions.DEFAULT_WEBSOCKET_ALLOW_SERVER_NO_CONTEXT,
            HttpServerOptions.DEFAULT_WEBSOCKET_PREFERRED_CLIENT_NO_CONTEXT, maxInflatedBytes)));
    return true;
  }
}
