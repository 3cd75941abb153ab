package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

/**
 * The {@code webhook} section: where notifications for offline recipients are posted, how they are
 * signed, batched, bounded and retried. An empty {@code url} turns the whole feature off.
 */
public record WebhookConfig(String url, String secret, int batchMaxNotifications, int maxQueued, long timeoutMillis,
                            long retryInitialMillis, long retryMaxMillis, long pollIntervalMillis) {

  public static WebhookConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "webhook");
    String url = s.optionalString("url").trim();
    String secret = s.optionalString("secret");
    if (!url.isEmpty()) {
      if (!url.startsWith("http://") && !url.startsWith("https://")) {
        throw new IllegalArgumentException(s.key("url") + " must be empty (off) or an http:// or https:// URL");
      }
      if (secret.length() < 16) {
        throw new IllegalArgumentException(s.key("secret") + " must have at least 16 characters when webhook.url is set "
            + "(receivers verify each request's signature with it)");
      }
    }
    long initial = s.longIn("retryInitialMillis", 1, 3_600_000);
    long max = s.longIn("retryMaxMillis", 1, 86_400_000);
    if (max < initial) {
      throw new IllegalArgumentException(s.key("retryMaxMillis") + " must be at least webhook.retryInitialMillis");
    }
    return new WebhookConfig(url, secret,
        s.intIn("batchMaxNotifications", 1, 10_000),
        s.intIn("maxQueued", 1, 100_000_000),
        s.longIn("timeoutMillis", 1, 600_000),
        initial,
        max,
        s.longIn("pollIntervalMillis", 10, 3_600_000));
  }

  /** Whether notifications are written and posted at all. */
  public boolean enabled() {
    return !url.isEmpty();
  }

  @Override
  public String toString() {
    // The secret stays out of logs and error messages.
    return "WebhookConfig[url=" + url + ", batchMaxNotifications=" + batchMaxNotifications + ", maxQueued=" + maxQueued
        + ", timeoutMillis=" + timeoutMillis + ", retryInitialMillis=" + retryInitialMillis + ", retryMaxMillis="
        + retryMaxMillis + ", pollIntervalMillis=" + pollIntervalMillis + "]";
  }
}
