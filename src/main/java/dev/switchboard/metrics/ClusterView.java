package dev.switchboard.metrics;

import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;

import java.util.List;

/**
 * What this node sees of its cluster. Vert.x has no public API for the members, so this adapter
 * reads them from the cluster manager (as {@link dev.switchboard.routing.UserDirectory} does for
 * the node id): an upgrade that moves that API breaks the build here, not a running node.
 */
public final class ClusterView {

  private final ClusterManager clusterManager;

  public ClusterView(Vertx vertx) {
    this.clusterManager = vertx.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
  }

  /** Members seen, this node included; 1 when not clustered. */
  public int members() {
    return clusterManager == null ? 1 : clusterManager.getNodes().size();
  }

  /** This node's id in the cluster, {@code local} when not clustered. */
  public String nodeId() {
    return clusterManager == null ? "local" : clusterManager.getNodeId();
  }

  /** The members' node ids, this node's included; just {@link #nodeId} when not clustered. */
  public List<String> nodeIds() {
    return clusterManager == null ? List.of(nodeId()) : List.copyOf(clusterManager.getNodes());
  }

  /** This node's event-bus address ({@code host:port}) that other members reach it on; null when not clustered. */
  public String address() {
    if (clusterManager == null) {
      return null;
    }
    NodeInfo info = clusterManager.getNodeInfo();
    return info == null ? null : info.host() + ":" + info.port();
  }

  /** Whether this node is a member: always when not clustered. */
  public boolean joined() {
    return clusterManager == null || (clusterManager.isActive() && clusterManager.getNodes().contains(clusterManager.getNodeId()));
  }
}
