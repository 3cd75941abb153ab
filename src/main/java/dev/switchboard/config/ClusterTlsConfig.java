package dev.switchboard.config;

import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PfxOptions;

/**
 * The {@code cluster} section: TLS with client certificates on the event bus between clustered
 * nodes (and publishers). With {@code eventBusTls} on, a node accepts event-bus connections only
 * from peers presenting a certificate its trust store trusts, and connects only to such peers, so
 * a host that can reach the cluster's ports but holds no certificate can neither send to a
 * node's consumers nor receive what nodes send. Applied to the Vert.x options before Vert.x
 * starts; see docs/security.md ("Cluster") for what it leaves open.
 */
public record ClusterTlsConfig(boolean eventBusTls, String keyStore, String keyStorePassword, String trustStore,
                               String trustStorePassword) {

  public static ClusterTlsConfig fromJson(JsonObject root) {
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
    return new ClusterTlsConfig(enabled, keyStore, s.optionalString("keyStorePassword"), trustStore,
        s.optionalString("trustStorePassword"));
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
