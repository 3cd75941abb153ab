package dev.switchboard.gateway;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.internal.http.WebSocketInternal;
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
 * The flush at the end of a turn, on a real socket: frames written by one task of the socket's event
 * loop reach the kernel in one flush, queued behind that task, and arrive in order; a later task's
 * frames get a flush of their own.
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
          ((WebSocketInternal) socket).channelHandlerContext().pipeline().addFirst(counter);
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
  @DisplayName("three frames written in one task of the event loop leave in one flush, queued behind the task, and arrive in order")
  void oneFlushPerTurn(Vertx vertx, VertxTestContext ctx) {
    Checkpoint flushedOnce = ctx.checkpoint();
    withSocket(vertx, ctx, List.of("accepted", "message", "message 2"), (socket, counter) -> {
      Context context = vertx.getOrCreateContext();
      context.runOnContext(turn -> {
        socket.writeTextMessage("accepted");
        socket.writeTextMessage("message");
        socket.writeTextMessage("message 2");
        ctx.verify(() -> assertEquals(0, counter.flushes, "nothing flushed while the task runs"));
        context.runOnContext(nextTask -> ctx.verify(() -> {
          assertEquals(1, counter.flushes);
          flushedOnce.flag();
        }));
      });
    });
  }

  @Test
  @DisplayName("frames of a later task get a flush of their own: every turn's frames are flushed")
  void laterTurnsAreFlushedToo(Vertx vertx, VertxTestContext ctx) {
    Checkpoint flushedTwice = ctx.checkpoint();
    withSocket(vertx, ctx, List.of("first", "second"), (socket, counter) -> {
      Context context = vertx.getOrCreateContext();
      context.runOnContext(first -> {
        socket.writeTextMessage("first");
        context.runOnContext(afterFirst -> {
          socket.writeTextMessage("second");
          context.runOnContext(afterSecond -> ctx.verify(() -> {
            assertEquals(2, counter.flushes);
            flushedTwice.flag();
          }));
        });
      });
    });
  }
}
