package dev.switchboard.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;

/**
 * A raw TCP client that starts an HTTP request and takes its time finishing it (slowloris): it
 * sends a first chunk, then one more byte every so often, and reports when the server closes the
 * connection on it.
 */
public final class SlowClient {

  /** How a slow connection ended: after how long, how much it had sent, and what it received. */
  public record Closed(long afterMillis, int bytesSent, Buffer received) {
  }

  private SlowClient() {
  }

  /**
   * Connects to {@code port} on 127.0.0.1, writes {@code start}, then one byte of {@code rest} every
   * {@code everyMillis} (nothing more once it runs out). Completes when the server closes the
   * connection; fails, and closes it, if that has not happened within {@code limitMillis}.
   */
  public static Future<Closed> dribble(Vertx vertx, NetClientOptions options, int port, String start, String rest,
      long everyMillis, long limitMillis) {
    NetClient client = vertx.createNetClient(options);
    // Timed from before the connect: the server's deadline cannot start earlier, whereas the connect's
    // completion can run late on a busy client loop and make a close look early.
    long connectingAt = System.currentTimeMillis();
    return client.connect(port, "127.0.0.1")
        .compose(socket -> dribble(vertx, socket, connectingAt, start, rest, everyMillis, limitMillis))
        .eventually(client::close);
  }

  /** A plain TCP connection that sends nothing at all. */
  public static Future<Closed> silent(Vertx vertx, int port, long limitMillis) {
    return dribble(vertx, new NetClientOptions(), port, "", "", 1000, limitMillis);
  }

  private static Future<Closed> dribble(Vertx vertx, NetSocket socket, long openedAt, String start, String rest,
      long everyMillis, long limitMillis) {
    Buffer received = Buffer.buffer();
    int[] sent = {start.length()};
    Promise<Closed> closed = Promise.promise();
    long drip = vertx.setPeriodic(everyMillis, id -> {
      int next = sent[0] - start.length();
      if (next < rest.length() && !closed.future().isComplete()) {
        socket.write(rest.substring(next, next + 1));
        sent[0]++;
      }
    });
    long limit = vertx.setTimer(limitMillis, id -> {
      if (closed.tryFail(new AssertionError("the server left a slow connection open for " + limitMillis + " ms, "
          + sent[0] + " bytes sent"))) {
        socket.close();
      }
    });
    socket.handler(received::appendBuffer);
    socket.closeHandler(v -> {
      vertx.cancelTimer(drip);
      vertx.cancelTimer(limit);
      closed.tryComplete(new Closed(System.currentTimeMillis() - openedAt, sent[0], received));
    });
    if (!start.isEmpty()) {
      socket.write(start);
    }
    return closed.future();
  }
}
