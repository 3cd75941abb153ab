package dev.switchboard.routing;

import io.vertx.core.Future;
import dev.switchboard.vertx.VertxInternals;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.Collection;
import java.util.Map;

/**
 * Which nodes hold live sessions of each user, and how many: user id to {@link NodeCounts}. One
 * implementation per form: {@link LocalUserDirectory} on a single node, {@link HazelcastUserDirectory}
 * in a cluster. Each verticle makes its own and uses it from its own event loop.
 */
public interface UserDirectory {

  /** The directory for this Vert.x: local when not clustered, else the cluster-wide one. */
  static UserDirectory create(Vertx vertx) {
    if (!vertx.isClustered()) {
      return new LocalUserDirectory(vertx);
    }
    ClusterManager manager = VertxInternals.clusterManager(vertx);
    if (manager instanceof HazelcastClusterManager hazelcast) {
      return new HazelcastUserDirectory(vertx, hazelcast);
    }
    throw new IllegalStateException("the user directory needs the Hazelcast cluster manager, not "
        + manager.getClass().getName());
  }

  /** This node's id: the cluster member id, or {@code local} when not clustered. */
  String localNode();

  /**
   * Counts a new session of {@code user} on this node, unless the user already has
   * {@code maxSessions} on the live nodes: true when counted, false when refused. The check and the
   * count are one atomic step, so concurrent connections cannot all see room for themselves; once
   * it completes with true, every node's {@link #sessionsByNode} names this node.
   */
  Future<Boolean> join(String user, int maxSessions);

  /** A counted session of {@code user} on this node closed. Completes once the count is lowered or will be repaired. */
  Future<Void> leave(String user);

  /** Live sessions of {@code user} per node, counting only nodes still in the cluster. */
  Future<Map<String, Integer>> sessionsByNode(String user);

  /** Live sessions per node of each of {@code users}; users without sessions are left out. */
  Future<Map<String, Map<String, Integer>>> sessionsByNode(Collection<String> users);

  /**
   * Brings entries whose change failed back to the sessions this node really holds, and tells the
   * other nodes again the counts some of them may have missed. Called periodically by the gateway;
   * a no-op where changes cannot fail.
   */
  void repair();
}
