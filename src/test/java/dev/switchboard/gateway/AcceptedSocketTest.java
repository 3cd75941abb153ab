package dev.switchboard.gateway;

import dev.switchboard.vertx.VertxInternals;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the gateway does to each accepted WebSocket, over a real socket: with the direct write queue
 * and {@link FlushAtTurnEnd} it still delivers every frame in order, through a full write queue; and
 * without Vert.x's idle-state handler it still answers.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class AcceptedSocketTest {

  /** Vert.x closes a client that is no longer referenced: hold it for the test's length. */
  private WebSocketClient client;

  @Test
  @DisplayName("an accepted WebSocket gets the direct queue and the flush at the turn's end; with a reader that stalls, the write queue fills, drains, and every frame arrives in order")
  void directQueue(Vertx vertx, VertxTestContext ctx) {
    String payload = "x".repeat(1_000);
    Checkpoint drained = ctx.checkpoint();
    Checkpoint allReceived = ctx.checkpoint();
    Promise<Runnable> serverReady = Promise.promise();
    Promise<Void> queueFull = Promise.promise();
    int[] written = {0};
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setStrictThreadMode(true).setHost("127.0.0.1"))
        .requestHandler(request -> request.response().setStatusCode(404).end())
        .webSocketHandshakeHandler(handshake -> handshake.accept().onSuccess(socket -> ctx.verify(() -> {
          assertTrue(VertxInternals.useDirectWriteQueue(socket));
          assertTrue(VertxInternals.hasDirectWriteQueue(socket));
          assertTrue(FlushAtTurnEnd.install(socket));
          socket.setWriteQueueMaxSize(64 * 1024);
          Context serverContext = vertx.getOrCreateContext();
          // Writes start once the client has stopped reading, on the socket's own event loop.
          serverReady.complete(() -> serverContext.runOnContext(v -> {
            while (!socket.writeQueueFull() && written[0] < 200_000) {
              socket.writeTextMessage(written[0]++ + ":" + payload);
            }
            ctx.verify(() -> assertTrue(socket.writeQueueFull(), "a stalled reader fills the write queue"));
            socket.drainHandler(x -> drained.flag());
            queueFull.complete();
          }));
        })));
    List<Integer> received = new ArrayList<>();
    server.listen(0).onComplete(ctx.succeeding(s -> {
      client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(65536));
      client.connect(s.actualPort(), "127.0.0.1", "/").onComplete(ctx.succeeding(ws -> {
        ws.textMessageHandler(text -> {
          received.add(Integer.parseInt(text.substring(0, text.indexOf(':'))));
          if (received.size() == written[0] && received.size() > 0) {
            ctx.verify(() -> {
              for (int i = 0; i < received.size(); i++) {
                assertEquals(i, received.get(i));
              }
              allReceived.flag();
            });
          }
        });
        ws.pause();
        serverReady.future().onSuccess(startWriting -> {
          startWriting.run();
          // The reader comes back once the server has seen its write queue full.
          queueFull.future().onSuccess(v -> ws.resume());
        });
      }));
    }));
  }

  @Test
  @DisplayName("the server's idle-state handler is taken out of an accepted WebSocket, which still answers")
  void idleHandlerRemoved(Vertx vertx, VertxTestContext ctx) {
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setStrictThreadMode(true).setHost("127.0.0.1")
            .setIdleTimeout(60))
        .requestHandler(request -> request.response().setStatusCode(404).end())
        .webSocketHandshakeHandler(handshake -> handshake.accept().onSuccess(socket -> {
          ctx.verify(() -> {
            assertTrue(IdleHandlerRemoval.present(socket), "Vert.x adds it for setIdleTimeout");
            assertTrue(IdleHandlerRemoval.apply(socket));
            assertFalse(IdleHandlerRemoval.present(socket));
            assertFalse(IdleHandlerRemoval.apply(socket), "nothing left to remove");
          });
          socket.textMessageHandler(socket::writeTextMessage);
        }));
    server.listen(0).onComplete(ctx.succeeding(s -> {
      client = vertx.createWebSocketClient();
      client.connect(s.actualPort(), "127.0.0.1", "/").onComplete(ctx.succeeding(ws -> {
        ws.textMessageHandler(echo -> ctx.verify(() -> {
          assertEquals("still here", echo);
          ctx.completeNow();
        }));
        ws.writeTextMessage("still here");
      }));
    }));
  }

  @Test
  @DisplayName("a socket that is not Vert.x's own is left alone")
  void otherSockets() {
    assertFalse(VertxInternals.useDirectWriteQueue(null));
  }
}
