package dev.switchboard.cluster;

import dev.switchboard.support.TestCluster;
import dev.switchboard.vertx.VertxInternals;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node listens for the cluster only on {@code switchboard.cluster.interface}. Every address of
 * 127.0.0.0/8 reaches this machine, so a port bound to all interfaces answers on 127.0.0.2 as well,
 * and one bound to 127.0.0.1 only refuses it: the test stays on loopback and still tells the two apart.
 */
class ClusterBindIT {

  @RegisterExtension
  final TestCluster cluster = new TestCluster("bind-it", 1);

  @Test
  @DisplayName("the Hazelcast and event-bus ports of a member are bound to the configured interface only")
  void bindsOnlyTheConfiguredInterface() throws Exception {
    Vertx member = cluster.member();
    HazelcastClusterManager manager = (HazelcastClusterManager) VertxInternals.clusterManager(member);

    InetSocketAddress hazelcast = manager.getHazelcastInstance().getCluster().getLocalMember()
        .getAddress().getInetSocketAddress();
    NodeInfo eventBus = manager.getNodeInfo();
    assertEquals("127.0.0.1", hazelcast.getAddress().getHostAddress());
    assertEquals("127.0.0.1", eventBus.host());

    for (int port : new int[] {hazelcast.getPort(), eventBus.port()}) {
      assertTrue(reachable("127.0.0.1", port), "port " + port + " does not answer on its own interface");
      assertThrows(ConnectException.class, () -> connect("127.0.0.2", port),
          "port " + port + " answers on another address: it is bound to every interface");
    }
  }

  private static boolean reachable(String host, int port) throws IOException {
    connect(host, port);
    return true;
  }

  private static void connect(String host, int port) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 5_000);
    }
  }
}
