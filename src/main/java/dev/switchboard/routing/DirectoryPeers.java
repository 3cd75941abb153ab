package dev.switchboard.routing;

import dev.switchboard.bus.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a clustered node shares with the other nodes about sessions, one per node: its
 * {@link SessionReplica} of theirs, the peers it tells its own changes to, and the versions it gives
 * them. The {@link DirectoryReplicaVerticle} installs it and keeps it in step with the cluster; each
 * {@link HazelcastUserDirectory} of the node finds it here and announces through it.
 *
 * <p>A peer is told each change and answers once its replica holds it; a peer that leaves the
 * cluster meanwhile needs no answer, so a peer that died is waited for only until the cluster
 * declares it dead. A peer whose consumer is not yet known here (its registration still spreading)
 * is asked again until it answers, leaves, or the timeout passes.
 */
final class DirectoryPeers implements Shareable {

  private static final String SHARED_MAP = "switchboard.directory.peers";
  private static final String KEY = "peers";
  private static final long RETRY_MILLIS = 10;

  private final SessionReplica replica = new SessionReplica();
  /** Each peer, with what completes when it leaves the cluster. */
  private final Map<String, Promise<Void>> peers = new ConcurrentHashMap<>();
  private final AtomicLong versions = new AtomicLong();
  private final DeliveryOptions options;
  private final byte[] requiredKey;
  private final long timeoutMillis;
  private volatile boolean ready;

  /**
   * @param nodeKey     presented on what this node sends to peers (empty: none)
   * @param requireKey  whether what peers send here must present it (outside insecure mode)
   */
  private DirectoryPeers(String nodeKey, boolean requireKey, long timeoutMillis) {
    this.options = new DeliveryOptions().setSendTimeout(timeoutMillis);
    if (!nodeKey.isEmpty()) {
      options.addHeader(Addresses.NODE_KEY_HEADER, nodeKey);
    }
    this.requiredKey = requireKey ? nodeKey.getBytes(StandardCharsets.UTF_8) : null;
    this.timeoutMillis = timeoutMillis;
  }

  /** Installs this node's, once; a second install (another deployment in the same Vert.x) gets the first. */
  static DirectoryPeers install(Vertx vertx, String nodeKey, boolean requireKey, long timeoutMillis) {
    LocalMap<String, DirectoryPeers> shared = vertx.sharedData().getLocalMap(SHARED_MAP);
    DirectoryPeers fresh = new DirectoryPeers(nodeKey, requireKey, timeoutMillis);
    DirectoryPeers present = shared.putIfAbsent(KEY, fresh);
    return present == null ? fresh : present;
  }

  /** This node's, or null while no {@link DirectoryReplicaVerticle} runs on it. */
  static DirectoryPeers of(Vertx vertx) {
    return vertx.sharedData().<String, DirectoryPeers>getLocalMap(SHARED_MAP).get(KEY);
  }

  static void uninstall(Vertx vertx) {
    vertx.sharedData().getLocalMap(SHARED_MAP).remove(KEY);
  }

  SessionReplica replica() {
    return replica;
  }

  /** Whether the replica holds every other node's sessions, so that lookups may read it alone. */
  boolean ready() {
    return ready;
  }

  void markReady() {
    ready = true;
  }

  /** The version of this node's next change: greater than any it gave before. */
  long nextVersion() {
    return versions.incrementAndGet();
  }

  /** From now on {@code node} is told this node's changes. */
  void addPeer(String node) {
    peers.computeIfAbsent(node, n -> Promise.promise());
  }

  /** {@code node} left the cluster: it is no longer told anything, nor waited for. */
  void departed(String node) {
    replica.dropNode(node);
    Promise<Void> gone = peers.get(node);
    if (gone != null) {
      // Before it stops being a peer: a request to it failing meanwhile finds it gone, not refusing.
      gone.tryComplete();
      peers.remove(node);
    }
  }

  boolean presentsKey(String presented) {
    return requiredKey == null || presented != null && !presented.isEmpty()
        && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8), requiredKey);
  }

  DeliveryOptions options() {
    return options;
  }

  long timeoutMillis() {
    return timeoutMillis;
  }

  /**
   * Tells every peer that this node now holds {@code sessions} sessions of {@code user}, as of change
   * {@code version}. Completes on {@code context} once each peer has applied it or left the cluster;
   * fails when one of them did neither within the timeout.
   */
  Future<Void> announce(Vertx vertx, Context context, String node, String user, int sessions, long version) {
    if (peers.isEmpty()) {
      return Future.succeededFuture();
    }
    JsonObject change = new JsonObject().put("node", node).put("user", user).put("sessions", sessions)
        .put("version", version);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    List<Future<Void>> told = new ArrayList<>(peers.size());
    peers.forEach((peer, gone) -> told.add(tell(vertx, peer, gone.future(), change, deadline)));
    Future<Void> all = Future.all(told).mapEmpty();
    // A peer's departure completes on a Hazelcast thread: the caller continues on its own context.
    return Future.fromCompletionStage(all.toCompletionStage(), context);
  }

  private Future<Void> tell(Vertx vertx, String peer, Future<Void> gone, JsonObject change, long deadline) {
    Promise<Void> done = Promise.promise();
    gone.onSuccess(v -> done.tryComplete());
    request(vertx, peer, change, deadline).onComplete(told -> {
      if (told.succeeded()) {
        done.tryComplete();
      } else {
        done.tryFail(told.cause());
      }
    });
    return done.future();
  }

  private Future<Void> request(Vertx vertx, String peer, JsonObject change, long deadline) {
    return vertx.eventBus().request(Addresses.directory(peer), change, options).<Void>mapEmpty()
        .recover(e -> {
          if (!peers.containsKey(peer)) {
            return Future.succeededFuture(); // it left the cluster: nothing of it to update
          }
          return unreached(e) && System.nanoTime() < deadline
              ? vertx.timer(RETRY_MILLIS).compose(v -> request(vertx, peer, change, deadline))
              : Future.failedFuture(e);
        });
  }

  /** The peer's consumer is not known here yet: worth asking again. */
  private static boolean unreached(Throwable e) {
    return e instanceof ReplyException reply && reply.failureType() == ReplyFailure.NO_HANDLERS;
  }
}
