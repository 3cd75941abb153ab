package dev.switchboard.routing;

import dev.switchboard.bus.NodeKey;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What a clustered node shares with the other nodes about sessions, one per node: its
 * {@link SessionReplica} of theirs, the peers it tells its own changes to (and who to tell when one
 * leaves the cluster, so that a peer that died is waited for only until the cluster declares it
 * dead), and the versions it gives the changes. The {@link DirectoryReplicaVerticle} installs it
 * and keeps it in step with the cluster; each {@link HazelcastUserDirectory} of the node finds it
 * here and tells the peers through its {@link PeerChanges}.
 */
final class DirectoryPeers implements Shareable {

  private static final String SHARED_MAP = "switchboard.directory.peers";
  private static final String KEY = "peers";

  private final SessionReplica replica = new SessionReplica();
  private final Set<String> peers = ConcurrentHashMap.newKeySet();
  /** Told each peer that leaves: what waits for it need not any more. */
  private final List<Consumer<String>> departures = new CopyOnWriteArrayList<>();
  private final AtomicLong versions = new AtomicLong();
  private final NodeKey nodeKey;
  private final DeliveryOptions options;
  private final long timeoutMillis;
  private volatile boolean ready;

  private DirectoryPeers(NodeKey nodeKey, long timeoutMillis) {
    this.nodeKey = nodeKey;
    this.options = nodeKey.options().setSendTimeout(timeoutMillis);
    this.timeoutMillis = timeoutMillis;
  }

  /** Installs this node's, once; a second install (another deployment in the same Vert.x) gets the first. */
  static DirectoryPeers install(Vertx vertx, NodeKey nodeKey, long timeoutMillis) {
    LocalMap<String, DirectoryPeers> shared = vertx.sharedData().getLocalMap(SHARED_MAP);
    DirectoryPeers fresh = new DirectoryPeers(nodeKey, timeoutMillis);
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
    peers.add(node);
  }

  /** {@code node} left the cluster: it is no longer told anything, nor waited for. */
  void departed(String node) {
    replica.dropNode(node);
    departures.forEach(listener -> listener.accept(node));
    // From now on a request to it that fails counts as done: it left, nothing of it to update.
    peers.remove(node);
  }

  /**
   * {@code listener} is told each peer that leaves the cluster, on a Hazelcast thread, until the
   * returned action is run.
   */
  Runnable onDeparture(Consumer<String> listener) {
    departures.add(listener);
    return () -> departures.remove(listener);
  }

  /** How many listeners {@link #onDeparture} holds. */
  int departureListeners() {
    return departures.size();
  }

  NodeKey nodeKey() {
    return nodeKey;
  }

  DeliveryOptions options() {
    return options;
  }

  long timeoutMillis() {
    return timeoutMillis;
  }

  /** The peers, as a live view. */
  Set<String> peers() {
    return Collections.unmodifiableSet(peers);
  }

  boolean isPeer(String node) {
    return peers.contains(node);
  }
}
