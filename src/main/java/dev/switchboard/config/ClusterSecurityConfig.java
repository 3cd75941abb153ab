package dev.switchboard.config;

import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PfxOptions;

/**
 * The {@code cluster} section: how clustered nodes trust each other.
 *
 * <p>With {@code eventBusTls} on, the event bus between nodes (and publishers) runs over TLS with
 * client certificates: a node accepts event-bus connections only from peers presenting a
 * certificate its trust store trusts, and connects only to such peers, so a host that can reach
 * the cluster's ports but holds no certificate can neither send to a node's consumers nor receive
 * what nodes send. Applied to the Vert.x options before Vert.x starts.
 *
 * <p>{@code nodeKey} is a secret shared by the nodes: in {@code jwt} mode a node delivers the
 * messages another node relays to it ({@code switchboard.node.<id>}) only when they carry it, as
 * publishers of {@code switchboard.push} must carry an API key. See docs/security.md ("Cluster")
 * for what both leave open.
 *
 * <p>{@code directoryTimeoutMillis} bounds how long a node waits for the others to take in a change
 * of its sessions (a session counts as joined only once they all have), and for their sessions
 * when it starts. It is longer than Hazelcast takes to declare a silent member dead, so a node
 * that dies holds connects elsewhere until it is declared dead rather than failing them.
 */
public record ClusterSecurityConfig(boolean eventBusTls, String keyStore, String keyStorePassword, String trustStore,
                                    String trustStorePassword, String nodeKey, long directoryTimeoutMillis) {

  static final int MIN_NODE_KEY_LENGTH = 16;

  public static ClusterSecurityConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "cluster");
    boolean enabled = s.bool("eventBusTls");
    String keyStore = s.optionalString("keyStore");
    String trustStore = s.optionalString("trustStore");
    if (enabled && keyStore.isEmpty()) {
      throw new IllegalArgumentException(s.key("keyStore") + " is required when cluster.eventBusTls is true");
    }
    if (enabled && trustStore.isEmpty()) {
      throw new IllegalArgumentException(s.key("trustStore") + " is required when cluster.eventBusTls is true");
    }
    String nodeKey = s.optionalString("nodeKey");
    if (!nodeKey.isEmpty() && nodeKey.length() < MIN_NODE_KEY_LENGTH) {
      throw new IllegalArgumentException(s.key("nodeKey") + " must be at least " + MIN_NODE_KEY_LENGTH + " characters");
    }
    return new ClusterSecurityConfig(enabled, keyStore, s.optionalString("keyStorePassword"), trustStore,
        s.optionalString("trustStorePassword"), nodeKey, s.longIn("directoryTimeoutMillis", 100, 600_000));
  }

  /** Turns on TLS with required client certificates when enabled; the options are left alone otherwise. */
  public EventBusOptions apply(EventBusOptions options) {
    if (eventBusTls) {
      options.setSsl(true)
          .setKeyCertOptions(new PfxOptions().setPath(keyStore).setPassword(keyStorePassword))
          .setTrustOptions(new PfxOptions().setPath(trustStore).setPassword(trustStorePassword))
          .setClientAuth(ClientAuth.REQUIRED);
    }
    return options;
  }
}
