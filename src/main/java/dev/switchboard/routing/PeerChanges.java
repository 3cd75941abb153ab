package dev.switchboard.routing;

import dev.switchboard.bus.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One directory's changes on their way to the node's peers ({@link DirectoryPeers}): one request in
 * flight per peer, and the changes made meanwhile go together in the next, so that a burst of
 * connects costs each peer a few requests rather than one each. Each change completes once every
 * peer has applied it or left the cluster; it fails when one did neither within the timeout. A peer
 * whose consumer is not known here yet (its registration still spreading) is asked again. Its
 * outboxes are touched on its directory's context only. It listens for departures only while a
 * change is on its way, so that a directory whose verticle is gone leaves nothing registered.
 */
final class PeerChanges {

  private static final long RETRY_MILLIS = 10;

  /** Changes for one peer: those in the request in flight (none: no request), and those waiting for the next. */
  private static final class Outbox {
    JsonArray changes = new JsonArray();
    List<Promise<Void>> waiting = new ArrayList<>();
    List<Promise<Void>> inFlight = List.of();
  }

  private final Vertx vertx;
  private final Context context;
  private final String localNode;
  private final Map<String, Outbox> outboxes = new HashMap<>();
  /** The peers this directory is told the departures of, while it has outboxes; null otherwise. */
  private DirectoryPeers listening;
  /** Ends the listening. */
  private Runnable stopListening;

  PeerChanges(Vertx vertx, Context context, String localNode) {
    this.vertx = vertx;
    this.context = context;
    this.localNode = localNode;
  }

  /**
   * Tells every peer that this node now holds {@code sessions} sessions of {@code user}, as of change
   * {@code version}; completes on this directory's context.
   */
  Future<Void> announce(DirectoryPeers peers, String user, int sessions, long version) {
    if (Vertx.currentContext() != context) {
      // A leave may come from another thread (an embedding application): the outboxes are this context's.
      Promise<Void> told = Promise.promise();
      context.runOnContext(v -> announce(peers, user, sessions, version).onComplete(told));
      return told.future();
    }
    JsonArray change = new JsonArray().add(user).add(sessions).add(version);
    List<Future<Void>> told = new ArrayList<>();
    for (String peer : peers.peers()) {
      told.add(tell(peers, peer, change));
    }
    return told.isEmpty() ? Future.succeededFuture() : Future.all(told).mapEmpty();
  }

  private Future<Void> tell(DirectoryPeers peers, String peer, JsonArray change) {
    Promise<Void> done = Promise.promise();
    listen(peers);
    Outbox outbox = outboxes.computeIfAbsent(peer, p -> new Outbox());
    outbox.changes.add(change);
    outbox.waiting.add(done);
    if (outbox.inFlight.isEmpty()) {
      send(peers, peer, outbox);
    }
    return done.future();
  }

  private void send(DirectoryPeers peers, String peer, Outbox outbox) {
    JsonObject batch = new JsonObject().put("node", localNode).put("changes", outbox.changes);
    List<Promise<Void>> sent = outbox.waiting;
    outbox.changes = new JsonArray();
    outbox.waiting = new ArrayList<>();
    outbox.inFlight = sent;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(peers.timeoutMillis());
    request(peers, peer, batch, deadline).onComplete(told -> {
      for (Promise<Void> done : sent) {
        if (told.succeeded()) {
          done.tryComplete();
        } else {
          done.tryFail(told.cause());
        }
      }
      outbox.inFlight = List.of();
      if (!outbox.waiting.isEmpty()) {
        send(peers, peer, outbox);
      } else if (outboxes.get(peer) == outbox) {
        outboxes.remove(peer);
        unlistenWhenIdle();
      }
    });
  }

  /** From now on departures from {@code peers} reach this directory. */
  private void listen(DirectoryPeers peers) {
    if (listening == peers) {
      return;
    }
    if (stopListening != null) {
      stopListening.run(); // the node's replica started anew: its former peers tell nothing more
    }
    listening = peers;
    stopListening = peers.onDeparture(node -> context.runOnContext(v -> departed(node)));
  }

  private void unlistenWhenIdle() {
    if (outboxes.isEmpty() && stopListening != null) {
      stopListening.run();
      stopListening = null;
      listening = null;
    }
  }

  /** A peer left the cluster: what waits for it is done, and its outbox forgotten. */
  private void departed(String peer) {
    Outbox outbox = outboxes.remove(peer);
    if (outbox != null) {
      outbox.inFlight.forEach(Promise::tryComplete);
      outbox.waiting.forEach(Promise::tryComplete);
      outbox.waiting.clear();
      outbox.changes = new JsonArray();
      unlistenWhenIdle();
    }
  }

  private Future<Void> request(DirectoryPeers peers, String peer, JsonObject batch, long deadline) {
    return vertx.eventBus().request(Addresses.directory(peer), batch, peers.options()).<Void>mapEmpty()
        .recover(e -> {
          if (!peers.isPeer(peer)) {
            return Future.succeededFuture(); // it left the cluster: nothing of it to update
          }
          return unreached(e) && System.nanoTime() < deadline
              ? vertx.timer(RETRY_MILLIS).compose(v -> request(peers, peer, batch, deadline))
              : Future.failedFuture(e);
        });
  }

  /** The peer's consumer is not known here yet: worth asking again. */
  private static boolean unreached(Throwable e) {
    return e instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS;
  }
}
