package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

import java.util.List;

/** The {@code gateway} section: where clients connect and how their sockets are kept. */
public record GatewayConfig(
    // where clients connect
    String host, int port, int instances, List<String> webSocketPaths, String webroot,
    // how long a socket may stay silent, take to open and take to close
    long heartbeatIntervalMillis, long idleTimeoutMillis, long handshakeTimeoutMillis, int closeTimeoutSeconds,
    // what a socket may carry and hold
    int maxFrameBytes, int backlogPageSize, int maxWriteQueueBytes, boolean compression, int maxUnackedReceipts,
    // the text protocol's rendering
    boolean textPrefixSender, boolean textEscapeHtml) {

  public static GatewayConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "gateway");
    List<String> paths = s.strings("webSocketPaths");
    if (paths.isEmpty() || paths.stream().anyMatch(p -> !p.startsWith("/"))) {
      throw new IllegalArgumentException(s.key("webSocketPaths") + " must list at least one path, each starting with /");
    }
    long heartbeat = s.longIn("heartbeatIntervalSeconds", 1, 3600) * 1000;
    long idle = s.longIn("idleTimeoutSeconds", 2, 7200) * 1000;
    if (idle <= heartbeat) {
      throw new IllegalArgumentException(s.key("idleTimeoutSeconds") + " must be greater than gateway.heartbeatIntervalSeconds");
    }
    return new GatewayConfig(
        s.string("host"),
        s.intIn("port", 0, 65535),
        instances(s.intIn("instances", 0, 256), Runtime.getRuntime().availableProcessors()),
        paths,
        s.string("webroot"),
        heartbeat,
        idle,
        s.longIn("handshakeTimeoutSeconds", 1, 3600) * 1000,
        s.intIn("closeTimeoutSeconds", 0, 600),
        s.intIn("maxFrameBytes", 1024, 64 * 1024 * 1024),
        s.intIn("backlogPageSize", 1, 10_000),
        s.intIn("maxWriteQueueBytes", 1024, 1024 * 1024 * 1024),
        s.bool("compression"),
        s.intIn("maxUnackedReceipts", 1, 1_000_000),
        s.bool("textPrefixSender"),
        s.bool("textEscapeHtml"));
  }

  /**
   * 0 means half the cores, at least one. A gateway instance is one event loop, and the sockets'
   * frame work is most of the server's CPU; but every send also wakes the router's loop, the inbox's
   * and a worker thread for the fsync, and GC runs beside them. With a loop per core those threads
   * preempt the gateways and each hand-off costs a context switch, so fewer gateway loops than cores
   * leave room for them.
   */
  static int instances(int configured, int cores) {
    return configured == 0 ? Math.max(1, cores / 2) : configured;
  }
}
