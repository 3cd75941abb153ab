package dev.switchboard.gateway;

import dev.switchboard.protocol.CloseCodes;
import dev.switchboard.vertx.VertxInternals;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Answers a frame the gateway refuses to read (larger than {@code gateway.maxFrameBytes} on the
 * wire or once inflated, compressed without negotiation, otherwise malformed) with a close frame
 * carrying the reason's code: 1009 for size, 1002 or 1007 for the rest.
 *
 * <p>Vert.x's own handler closes the TCP connection on such a decoder error without a close frame,
 * which clients report as 1006. This handler sits just before it and takes those errors: it writes
 * the close frame, drops whatever the connection still delivers, half-closes so the client sees the
 * frame and then the end of the stream, and closes after {@code gateway.closeTimeoutSeconds} if the
 * client has not closed by then. Closing at once would reset a connection whose client is still
 * sending, and a reset can destroy the close frame before the client reads it. It handles
 * exceptions only, so frames do not pass through it.
 */
@ChannelHandler.Sharable
final class ProtocolViolationClose extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ProtocolViolationClose.class);

  static final String NAME = "switchboard-protocol-violation-close";
  private static final String DISCARD = "switchboard-discard-after-violation";

  private final long closeTimeoutMillis;
  /** The 1009 close's reason; it names the limit so that a client can settle the send instead of resending it. */
  private final String tooBigReason;

  ProtocolViolationClose(long closeTimeoutMillis, int maxFrameBytes) {
    this.closeTimeoutMillis = closeTimeoutMillis;
    this.tooBigReason = "frame larger than " + maxFrameBytes + " bytes";
  }

  /** Puts the handler into an accepted socket's pipeline; returns false when the socket has none. */
  boolean install(ServerWebSocket socket) {
    ChannelHandlerContext vertx = VertxInternals.handlerContext(socket);
    if (vertx == null) {
      return false;
    }
    vertx.pipeline().addBefore(vertx.name(), NAME, this);
    return true;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    WebSocketCloseStatus status = statusFor(cause);
    if (status == null) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    if (ctx.pipeline().get(DISCARD) != null) {
      return; // already closing: later errors of the same connection add nothing
    }
    short code = closeCode(status);
    LOG.debug("closing WebSocket from {} with {}: {}", ctx.channel().remoteAddress(), code, cause.getMessage());
    ctx.pipeline().addAfter(ctx.name(), DISCARD, Discard.INSTANCE);
    String reason = code == CloseCodes.MESSAGE_TOO_BIG ? tooBigReason : "protocol violation";
    ctx.writeAndFlush(new CloseWebSocketFrame(code, reason)).addListener((ChannelFutureListener) written -> {
      if (!written.isSuccess() || closeTimeoutMillis == 0 || !(written.channel() instanceof DuplexChannel duplex)) {
        written.channel().close();
        return;
      }
      duplex.shutdownOutput();
      written.channel().eventLoop().schedule(() -> written.channel().close(), closeTimeoutMillis, TimeUnit.MILLISECONDS);
    });
  }

  /** The status for an error of the frame decoders, null for any other error. */
  static WebSocketCloseStatus statusFor(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof CorruptedWebSocketFrameException corrupted) {
        return corrupted.closeStatus();
      }
      if (t instanceof DecompressionException decompression) {
        // Netty's limit names its "maximum size"; any other inflation error is a corrupt payload.
        String message = decompression.getMessage();
        return message != null && message.contains("maximum size")
            ? WebSocketCloseStatus.MESSAGE_TOO_BIG : WebSocketCloseStatus.INVALID_PAYLOAD_DATA;
      }
    }
    return null;
  }

  /** One of the documented close codes (docs/protocol.md) for a decoder's status. */
  static short closeCode(WebSocketCloseStatus status) {
    int code = status.code();
    if (code == CloseCodes.MESSAGE_TOO_BIG || code == CloseCodes.INVALID_PAYLOAD) {
      return (short) code;
    }
    return CloseCodes.PROTOCOL_ERROR;
  }

  /** Swallows everything a connection delivers once it is being closed for a violation. */
  @ChannelHandler.Sharable
  private static final class Discard extends ChannelInboundHandlerAdapter {
    static final Discard INSTANCE = new Discard();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("after a violation, from {}: {}", ctx.channel().remoteAddress(), cause.toString());
    }
  }
}
