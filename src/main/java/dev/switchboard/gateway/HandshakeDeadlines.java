package dev.switchboard.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

/**
 * Closes a connection whose first request (a WebSocket upgrade or any HTTP request) has not fully
 * arrived within {@code gateway.handshakeTimeoutSeconds} of being accepted: a client that sends
 * nothing, or dribbles its request line and headers a byte at a time (slowloris), cannot hold a
 * socket open. Once the request head has arrived the deadline is gone; the idle timeout and the
 * WebSocket heartbeat take over.
 *
 * <p>A connection is known here only while it waits: one timer and one map entry, both dropped when
 * its request arrives or it closes. The WebSocket handshake does not expose its connection, so
 * connections are keyed by their peer's address and port, unique among the open connections of
 * one listening socket. Used from the gateway's event loop only.
 */
final class HandshakeDeadlines {

  private static final Logger LOG = LoggerFactory.getLogger(HandshakeDeadlines.class);

  /** A connection still waiting for its first request, and the timer that will close it. */
  private record Waiting(HttpConnection connection, long timer) {
  }

  private final Vertx vertx;
  private final long timeoutMillis;
  private final Map<SocketAddress, Waiting> waiting = new HashMap<>();

  HandshakeDeadlines(Vertx vertx, long timeoutMillis) {
    this.vertx = vertx;
    this.timeoutMillis = timeoutMillis;
  }

  /** Starts the deadline of a connection just accepted. */
  void watch(HttpConnection connection) {
    SocketAddress peer = connection.remoteAddress();
    if (peer == null) {
      return; // not a TCP connection; the gateway listens on TCP only
    }
    long timer = vertx.setTimer(timeoutMillis, id -> expire(peer, id));
    Waiting entry = new Waiting(connection, timer);
    waiting.put(peer, entry);
    connection.closeHandler(v -> {
      if (waiting.remove(peer, entry)) {
        vertx.cancelTimer(timer);
      }
    });
  }

  /** The first request of the connection from {@code peer} has arrived: its deadline no longer applies. */
  void arrived(SocketAddress peer) {
    Waiting entry = peer == null ? null : waiting.remove(peer);
    if (entry != null) {
      vertx.cancelTimer(entry.timer());
      entry.connection().closeHandler(null);
    }
  }

  private void expire(SocketAddress peer, long timer) {
    Waiting entry = waiting.get(peer);
    if (entry == null || entry.timer() != timer) {
      return;
    }
    waiting.remove(peer);
    entry.connection().closeHandler(null);
    LOG.debug("closing connection from {}: no complete request within {} ms", peer, timeoutMillis);
    entry.connection().close()
        .onFailure(e -> LOG.debug("closing connection from {} failed: {}", peer, e.getMessage()));
  }
}
