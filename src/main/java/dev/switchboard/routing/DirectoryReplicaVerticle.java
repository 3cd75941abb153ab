package dev.switchboard.routing;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.switchboard.HazelcastInternals;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.NodeKey;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.vertx.VertxInternals;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Keeps this node's replica of the user directory in step with the other nodes, so that routing a
 * message reads where its recipients are without a round trip. Deployed once per clustered node,
 * before the verticles that route and hold sessions: on start it enters the node in the cluster's
 * list of replicas ({@code switchboard.directory.nodes}), then becomes a peer of every node listed
 * (each then tells it its changes, and it tells them its own) and takes a snapshot of each one's
 * sessions; deployed means the replica is whole. It then applies the changes peers announce,
 * answers the snapshots of nodes that start later, and drops the nodes that leave.
 *
 * <p>Of two nodes starting together, each enters itself before it reads the list, so at least one
 * finds the other, and one snapshot makes them peers both ways. Members that are not nodes (back
 * ends publishing on the event bus), and nodes whose replica has not started, are not listed and
 * not waited for; a node has no sessions before its replica has started.
 */
public final class DirectoryReplicaVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DirectoryReplicaVerticle.class);
  /** The Hazelcast map listing the nodes whose replica runs: node id to true. */
  static final String NODES_MAP = "switchboard.directory.nodes";
  /** Tombstones in the replica live between one and two of these. */
  private static final long SWEEP_MILLIS = TimeUnit.MINUTES.toMillis(1);
  private static final long RETRY_MILLIS = 20;

  private final NodeKey nodeKey;
  private final long timeoutMillis;
  private HazelcastClusterManager manager;
  private HazelcastInstance hazelcast;
  private IMap<String, Boolean> nodes;
  private String localNode;
  private DirectoryPeers peers;
  private UUID membershipListener;
  private long sweeper = -1;

  /**
   * @param nodeKey       {@code cluster.nodeKey}, presented to peers (empty: none)
   * @param requireKey    whether peers must present it here (outside insecure mode)
   * @param timeoutMillis {@code cluster.directoryTimeoutMillis}: how long a peer may take to answer
   */
  public DirectoryReplicaVerticle(String nodeKey, boolean requireKey, long timeoutMillis) {
    this.nodeKey = new NodeKey(nodeKey, requireKey);
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public Future<?> start() {
    if (!(VertxInternals.clusterManager(vertx) instanceof HazelcastClusterManager hazelcastManager)) {
      return Future.failedFuture("the directory replica needs the Hazelcast cluster manager");
    }
    manager = hazelcastManager;
    hazelcast = manager.getHazelcastInstance();
    nodes = hazelcast.getMap(NODES_MAP);
    localNode = manager.getNodeId();
    peers = DirectoryPeers.install(vertx, nodeKey, timeoutMillis);
    membershipListener = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        // A new node asks for a snapshot, and so becomes a peer, once it starts.
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        String node = HazelcastInternals.nodeId(event.getMember());
        if (node != null) {
          peers.departed(node);
          nodes.removeAsync(node);
        }
      }
    });
    sweeper = vertx.setPeriodic(SWEEP_MILLIS, id -> peers.replica().sweep());
    return Future.all(
            vertx.eventBus().consumer(Addresses.directory(localNode), this::onChange).completion(),
            vertx.eventBus().consumer(Addresses.directorySnapshot(localNode), this::onSnapshot).completion())
        .compose(registered -> syncWithNodes())
        .onSuccess(synced -> peers.markReady());
  }

  @Override
  public Future<?> stop() {
    if (membershipListener != null) {
      hazelcast.getCluster().removeMembershipListener(membershipListener);
    }
    vertx.cancelTimer(sweeper);
    DirectoryPeers.uninstall(vertx);
    return Future.fromCompletionStage(nodes.removeAsync(localNode), context).mapEmpty();
  }

  /** Every other listed node's sessions, each node made a peer first so that no change falls between. */
  private Future<Void> syncWithNodes() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    return Future.fromCompletionStage(nodes.setAsync(localNode, true), context)
        .compose(listed -> vertx.executeBlocking(() -> new ArrayList<>(nodes.keySet())))
        .compose(listed -> {
          List<Future<Void>> synced = new ArrayList<>();
          for (String node : listed) {
            if (node.equals(localNode)) {
              continue;
            }
            if (!member(node)) {
              nodes.removeAsync(node); // left while no node was there to strike it off
              continue;
            }
            peers.addPeer(node);
            synced.add(snapshotOf(node, deadline));
          }
          return Future.all(synced).<Void>mapEmpty()
              .onSuccess(v -> LOG.info("user directory: replica of {} other nodes' sessions taken", synced.size()));
        });
  }

  private Future<Void> snapshotOf(String node, long deadline) {
    JsonObject request = new JsonObject().put("node", localNode);
    return vertx.eventBus().request(Addresses.directorySnapshot(node), request, peers.options())
        .compose(reply -> {
          List<ReplicaCounts.Count> sessions;
          try {
            sessions = ReplicaCounts.counts(ReplicaCounts.object(reply.body()), "sessions");
          } catch (ProtocolException malformed) {
            // Asking again brings the same answer: a node of another version, or not a node.
            LOG.warn("user directory: node {} answered the snapshot with a malformed body: {}", node,
                malformed.getMessage());
            return Future.failedFuture(new IllegalStateException("node " + node + " sent its sessions in a body of "
                + "another shape: " + malformed.getMessage(), malformed));
          }
          apply(node, sessions);
          return Future.<Void>succeededFuture();
        }, e -> retry(node, deadline, e));
  }

  /** The snapshot of {@code node} was not answered, or refused for now: asked again until the deadline. */
  private Future<Void> retry(String node, long deadline, Throwable e) {
    if (!member(node)) {
      return Future.succeededFuture(); // it left: nothing of it to hold
    }
    if (System.nanoTime() < deadline) {
      // Its consumers are registered, but not yet known here.
      return vertx.timer(RETRY_MILLIS).compose(v -> snapshotOf(node, deadline));
    }
    return Future.failedFuture(new IllegalStateException("node " + node + " did not send its sessions within "
        + "cluster.directoryTimeoutMillis (" + timeoutMillis + " ms): " + e.getMessage(), e));
  }

  /** A peer's counts of some users' sessions changed. */
  private void onChange(Message<Object> message) {
    if (!authentic(message)) {
      return;
    }
    String node;
    List<ReplicaCounts.Count> changes;
    try {
      JsonObject body = ReplicaCounts.object(message.body());
      node = ReplicaCounts.node(body);
      changes = ReplicaCounts.counts(body, "changes");
    } catch (ProtocolException malformed) {
      LOG.warn("user directory: refused a change of another shape sent to {}: {}", message.address(),
          malformed.getMessage());
      BusFailures.fail(message, malformed);
      return;
    }
    apply(node, changes);
    message.reply(new JsonObject());
  }

  /** Each count of {@code node}, into the replica. */
  private void apply(String node, List<ReplicaCounts.Count> counts) {
    for (ReplicaCounts.Count count : counts) {
      peers.replica().apply(node, count.user(), count.sessions(), count.version());
    }
  }

  /** A node starting asks for this node's sessions: from now on it is told each change. */
  private void onSnapshot(Message<Object> message) {
    if (!authentic(message)) {
      return;
    }
    String requester;
    try {
      JsonObject body = ReplicaCounts.object(message.body());
      // Absent, it is answered as a node not yet a member; present, it must be a node id.
      requester = body.getValue("node") == null ? null : ReplicaCounts.node(body);
    } catch (ProtocolException malformed) {
      BusFailures.fail(message, malformed);
      return;
    }
    if (requester == null || !member(requester)) {
      // Not (yet) a member as this node sees the cluster: it asks again.
      BusFailures.fail(message, new ProtocolException(ErrorCode.UNAVAILABLE, "not a member of this cluster yet: " + requester));
      return;
    }
    // A peer before the sessions are read: a change counted after the read is told to it.
    peers.addPeer(requester);
    JsonArray sessions = new JsonArray();
    LocalMap<String, HazelcastUserDirectory.Here> here = vertx.sharedData().getLocalMap(HazelcastUserDirectory.HERE_MAP);
    here.forEach((user, held) -> {
      if (held.live() > 0) {
        sessions.add(new JsonArray().add(user).add(held.live()).add(held.version()));
      }
    });
    message.reply(new JsonObject().put("node", localNode).put("sessions", sessions));
  }

  private boolean authentic(Message<Object> message) {
    if (peers.nodeKey().presentedBy(message)) {
      return true;
    }
    LOG.warn("dropped a directory message without the cluster's node key: a member that is not a Switchboard node "
        + "of this cluster sent to {}", message.address());
    BusFailures.fail(message, new ProtocolException(ErrorCode.FORBIDDEN, "the cluster's node key is required"));
    return false;
  }

  private boolean member(String node) {
    return manager.getNodes().contains(node);
  }
}
