package dev.switchboard.metrics;

import dev.switchboard.vertx.VertxInternals;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;

import java.util.List;

/**
 * What this node sees of its cluster: the members and this node's id, read from the cluster
 * manager, which Vert.x gives only through {@link VertxInternals}.
 */
public final class ClusterView {

  private final ClusterManager clusterManager;

  public ClusterView(Vertx vertx) {
    this.clusterManager = VertxInternals.clusterManager(vertx);
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
