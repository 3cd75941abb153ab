package dev.switchboard.gateway;

import dev.switchboard.vertx.VertxInternals;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The flush at the end of a turn, on a real socket: frames written by tasks queued together on the
 * socket's event loop reach the kernel in one flush queued behind them, and arrive in order; on an
 * idle loop each frame goes at once.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class FlushAtTurnEndTest {

  /** Counts the flushes that get past {@link FlushAtTurnEnd}, i.e. the ones that reach the socket. */
  private static final class FlushCounter extends ChannelOutboundHandlerAdapter {
    int flushes;

    @Override
    public void flush(ChannelHandlerContext ctx) {
      flushes++;
      ctx.flush();
    }
  }

  /** Vert.x closes a client that is no longer referenced: hold it for the test's length. */
  private WebSocketClient client;

  /**
   * Starts a server whose accepted socket gets the handler and a counter below it, connects, and
   * checks that the client receives exactly the expected frames.
   */
  private void withSocket(Vertx vertx, VertxTestContext ctx, List<String> expected,
      BiConsumer<ServerWebSocket, FlushCounter> onAccepted) {
    Checkpoint arrived = ctx.checkpoint();
    List<String> received = new ArrayList<>();
    vertx.createHttpServer(new HttpServerOptions().setStrictThreadMode(true).setHost("127.0.0.1"))
        .webSocketHandshakeHandler(handshake -> handshake.accept().onSuccess(socket -> ctx.verify(() -> {
          assertTrue(FlushAtTurnEnd.install(socket));
          FlushCounter counter = new FlushCounter();
          VertxInternals.handlerContext(socket).pipeline().addFirst(counter);
          onAccepted.accept(socket, counter);
        })))
        .listen(0)
        .onComplete(ctx.succeeding(server -> {
          client = vertx.createWebSocketClient();
          client.connect(server.actualPort(), "127.0.0.1", "/")
              .onComplete(ctx.succeeding(ws -> ws.textMessageHandler(text -> {
                received.add(text);
                if (received.size() == expected.size()) {
                  ctx.verify(() -> {
                    assertEquals(expected, received);
                    arrived.flag();
                  });
                }
              })));
        }));
  }

  @Test
  @DisplayName("with another task queued on the loop, frames written by both tasks wait for one flush queued behind them, and arrive in order")
  void oneFlushForQueuedTasks(Vertx vertx, VertxTestContext ctx) {
    Checkpoint flushedOnce = ctx.checkpoint();
    withSocket(vertx, ctx, List.of("accepted", "message", "message 2", "next batch"), (socket, counter) -> {
      Context context = vertx.getOrCreateContext();
      context.runOnContext(first -> {
        // The next task is already waiting, as a delivery batch behind the router's answer is.
        context.runOnContext(second -> {
          socket.writeTextMessage("next batch");
          ctx.verify(() -> assertEquals(0, counter.flushes, "nothing flushed before the queued flush runs"));
        });
        socket.writeTextMessage("accepted");
        socket.writeTextMessage("message");
        socket.writeTextMessage("message 2");
        ctx.verify(() -> assertEquals(0, counter.flushes, "nothing flushed while a task is waiting"));
        context.runOnContext(afterTheFlush -> ctx.verify(() -> {
          assertEquals(1, counter.flushes);
          flushedOnce.flag();
        }));
      });
    });
  }

  @Test
  @DisplayName("with nothing queued on the loop, each frame is flushed as it is written")
  void idleLoopFlushesAtOnce(Vertx vertx, VertxTestContext ctx) {
    Checkpoint flushedEach = ctx.checkpoint();
    withSocket(vertx, ctx, List.of("first", "second"), (socket, counter) -> {
      vertx.getOrCreateContext().runOnContext(turn -> {
        socket.writeTextMessage("first");
        ctx.verify(() -> assertEquals(1, counter.flushes));
        socket.writeTextMessage("second");
        ctx.verify(() -> assertEquals(2, counter.flushes));
        flushedEach.flag();
      });
    });
  }
}
