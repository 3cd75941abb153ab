package dev.switchboard.gateway;

import dev.switchboard.vertx.VertxInternals;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.vertx.core.http.ServerWebSocket;

/**
 * Holds a socket's flushes until the tasks already queued on its event loop have run, so that
 * frames written to one socket by several tasks of a turn leave in one {@code writev}.
 *
 * <p>Vert.x flushes every frame written outside a read of that same socket with its own
 * {@code write}: a frame per delivery batch, a frame per {@code accepted}. Under load the gateway's
 * loop has several such tasks queued (the router's answer to a send batch and the delivery batch of
 * the same commit; under a run of pushes, one delivery batch per push), and each would cost every
 * socket it touches a system call and a loopback TCP segment. Here the first flush of a turn queues
 * one task behind them that flushes what they all wrote. When no task is queued on the loop there is
 * nothing to wait for and the flush goes at once: a lone push to many sockets keeps its frames
 * leaving while it writes the rest (holding them all to the end would stall a large push's first
 * sockets behind its last). Sits at the head of the pipeline, below the WebSocket frame encoder, so
 * it sees every flush the connection makes (the close handshake's too); Netty calls it only on the
 * socket's own event loop.
 */
final class FlushAtTurnEnd extends ChannelOutboundHandlerAdapter implements Runnable {

  static final String NAME = "switchboard-flush-at-turn-end";

  private ChannelHandlerContext context;
  private boolean flushQueued;

  /** Puts the handler into an accepted socket's pipeline; returns false when the socket has none. */
  static boolean install(ServerWebSocket socket) {
    ChannelHandlerContext vertx = VertxInternals.handlerContext(socket);
    if (vertx == null) {
      return false;
    }
    vertx.pipeline().addFirst(NAME, new FlushAtTurnEnd());
    return true;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    context = ctx;
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    if (flushQueued) {
      return;
    }
    if (nothingQueued(ctx.executor())) {
      ctx.flush();
      return;
    }
    flushQueued = true;
    ctx.executor().execute(this);
  }

  /** Whether the loop has no task waiting (an unknown kind of executor counts as busy). */
  private static boolean nothingQueued(EventExecutor executor) {
    return executor instanceof SingleThreadEventExecutor loop && loop.pendingTasks() == 0;
  }

  /** The queued flush: runs after the tasks that were ahead of it, on the socket's event loop. */
  @Override
  public void run() {
    flushQueued = false;
    context.flush();
  }
}
