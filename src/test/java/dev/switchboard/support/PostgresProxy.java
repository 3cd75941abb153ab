package dev.switchboard.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.pgclient.PgConnectOptions;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * A database reached through a TCP proxy that tests can take down, as a PostgreSQL server that
 * stopped or a lost network would be: open connections are cut and new ones closed at once, until
 * {@link #up()}; or freeze, as a hung server would; or answer late, as a slow disk or a distant
 * server does ({@link #delayReplies}). The proxy keeps its port throughout, so that nothing else on
 * the machine can take it meanwhile.
 */
public final class PostgresProxy {

  private final Vertx vertx;
  private final PgConnectOptions target;
  private final Set<NetSocket> open = new HashSet<>();
  private boolean frozen;
  private boolean down;
  private long replyDelayMillis;
  private NetServer server;
  private int port;

  private PostgresProxy(Vertx vertx, String uri) {
    this.vertx = vertx;
    this.target = PgConnectOptions.fromUri(uri);
  }

  /** A running proxy to the database of {@code uri}. */
  public static Future<PostgresProxy> start(Vertx vertx, String uri) {
    PostgresProxy proxy = new PostgresProxy(vertx, uri);
    return proxy.listen().map(proxy);
  }

  /** The URI of the same database through the proxy. */
  public String uri() {
    return "postgresql://" + target.getUser() + "@127.0.0.1:" + port + "/" + target.getDatabase();
  }

  private Future<Void> listen() {
    server = vertx.createNetServer().connectHandler(client -> {
      if (down) {
        client.close();
        return;
      }
      client.pause();
      open.add(client);
      vertx.createNetClient().connect(target.getPort(), "127.0.0.1").onSuccess(db -> {
        open.add(db);
        pipe(client, db);
        pipeLate(db, client);
        client.resume();
      }).onFailure(e -> client.close());
    });
    return server.listen(0, "127.0.0.1").onSuccess(s -> port = s.actualPort()).mapEmpty();
  }

  private void pipe(NetSocket from, NetSocket to) {
    from.handler(bytes -> {
      if (!frozen) {
        to.write(bytes);
      }
    });
    from.closeHandler(v -> {
      open.remove(from);
      to.close();
    });
  }

  /**
   * Forwards the database's bytes {@link #replyDelayMillis} after they arrive, in order: every round
   * trip then takes that much longer, so a commit of a few round trips has a known least duration.
   */
  private void pipeLate(NetSocket db, NetSocket client) {
    ArrayDeque<Held> held = new ArrayDeque<>();
    db.handler(bytes -> {
      if (frozen) {
        return;
      }
      if (replyDelayMillis == 0 && held.isEmpty()) {
        client.write(bytes);
        return;
      }
      held.add(new Held(System.nanoTime() + replyDelayMillis * 1_000_000L, bytes));
      if (held.size() == 1) {
        release(held, client);
      }
    });
    db.closeHandler(v -> {
      open.remove(db);
      client.close();
    });
  }

  /** Bytes from the database and when they are due at the client. */
  private record Held(long dueNanos, Buffer bytes) {
  }

  /** Writes the head of {@code held} when it is due, then the next, one timer at a time. */
  private void release(ArrayDeque<Held> held, NetSocket client) {
    long waitMillis = (held.peek().dueNanos() - System.nanoTime()) / 1_000_000L;
    vertx.setTimer(Math.max(1, waitMillis), id -> {
      long now = System.nanoTime();
      while (!held.isEmpty() && held.peek().dueNanos() <= now) {
        Held next = held.poll();
        if (!frozen) {
          client.write(next.bytes());
        }
      }
      if (!held.isEmpty()) {
        release(held, client);
      }
    });
  }

  /** From now on the database's answers reach the clients {@code millis} late (0: at once again). */
  public void delayReplies(long millis) {
    replyDelayMillis = millis;
  }

  /** Forwards nothing more either way, as a hung server or a silent network does; connections stay open. */
  public void freeze() {
    frozen = true;
  }

  /** Cuts every connection and closes new ones at once. */
  public Future<Void> down() {
    down = true;
    Set<NetSocket> cut = new HashSet<>(open);
    open.clear();
    return Future.join(cut.stream().map(NetSocket::close).toList()).mapEmpty();
  }

  /** Accepts connections again, and forwards again. */
  public Future<Void> up() {
    frozen = false;
    down = false;
    return Future.succeededFuture();
  }
}
