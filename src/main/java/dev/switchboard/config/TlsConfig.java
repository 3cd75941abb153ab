package dev.switchboard.config;

import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PfxOptions;

/**
 * The {@code tls} section: when enabled, the gateway (wss://, https://) and the push API serve TLS
 * with the certificate and key in a PKCS#12 key store. Terminating TLS at a reverse proxy instead
 * is just as good; see docs/security.md.
 */
public record TlsConfig(boolean enabled, String keyStore, String keyStorePassword) {

  public static TlsConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "tls");
    boolean enabled = s.bool("enabled");
    String keyStore = s.optionalString("keyStore");
    if (enabled && keyStore.isEmpty()) {
      throw new IllegalArgumentException(s.key("keyStore") + " is required when tls.enabled is true");
    }
    return new TlsConfig(enabled, keyStore, s.optionalString("keyStorePassword"));
  }

  /** Applies TLS to a server's options when enabled. */
  public HttpServerOptions apply(HttpServerOptions options) {
    if (enabled) {
      options.setSsl(true).setKeyCertOptions(new PfxOptions().setPath(keyStore).setPassword(keyStorePassword));
    }
    return options;
  }
}
