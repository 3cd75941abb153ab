package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

/** The whole validated configuration, one record per section. */
public record SwitchboardConfig(GatewayConfig gateway, PushApiConfig push, InboxConfig inbox, LimitsConfig limits,
                                AuthConfig auth, TlsConfig tls, ClusterSecurityConfig cluster,
                                ObservabilityConfig observability, WebhookConfig webhook) {

  public static SwitchboardConfig fromJson(JsonObject root) {
    return new SwitchboardConfig(
        GatewayConfig.fromJson(root),
        PushApiConfig.fromJson(root),
        InboxConfig.fromJson(root),
        LimitsConfig.fromJson(root),
        AuthConfig.fromJson(root),
        TlsConfig.fromJson(root),
        ClusterSecurityConfig.fromJson(root),
        ObservabilityConfig.fromJson(root),
        WebhookConfig.fromJson(root));
  }
}
