package dev.switchboard;

import dev.switchboard.config.ClusterSecurityConfig;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ObservabilityConfig;
import dev.switchboard.logging.LogSetup;
import dev.switchboard.metrics.SwitchboardMetrics;
import io.vertx.core.Deployable;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;
import io.vertx.micrometer.MicrometerMetricsFactory;

import java.util.function.Supplier;

/**
 * The command line: the Vert.x application launcher running {@link SwitchboardVerticle}.
 * {@code -conf file.json} (or inline JSON) overrides {@code conf/config.json}; environment
 * variables override both.
 */
public final class Switchboard extends VertxApplication implements VertxApplicationHooks {

  /** The {@code -conf} JSON, merged into the configuration when Vert.x is built. */
  private JsonObject launcherConfig;
  /** The configuration, loaded once before Vert.x starts, with every layer merged. */
  private JsonObject config;

  public Switchboard(String[] args) {
    super(args);
  }

  public static void main(String[] args) {
    new Switchboard(args).launch();
  }

  /** Use epoll on Linux when it is available (Vert.x falls back to NIO elsewhere). */
  @Override
  public JsonObject afterVertxOptionsParsed(JsonObject vertxOptions) {
    JsonObject options = vertxOptions == null ? new JsonObject() : vertxOptions;
    if (!options.containsKey("preferNativeTransport")) {
      options.put("preferNativeTransport", true);
    }
    return options;
  }

  @Override
  public JsonObject afterConfigParsed(JsonObject config) {
    launcherConfig = config;
    return config;
  }

  /**
   * Loads the configuration, the one time it is read; {@link SwitchboardVerticle} validates the rest
   * of it, so that an invalid value fails the deployment with its message. Clustered runs use
   * Hazelcast configured by {@code conf/cluster.xml} (see {@link ClusterConfig}), and the event bus
   * between nodes gets the {@code cluster} section's TLS; metrics and the log format are chosen here
   * too. All must be set before Vert.x is built.
   */
  @Override
  public VertxBuilder createVertxBuilder(VertxOptions options) {
    config = ConfigLoader.loadNow(launcherConfig, System.getenv());
    ClusterSecurityConfig.fromJson(config).apply(options.getEventBusOptions());
    ObservabilityConfig observability = ObservabilityConfig.fromJson(config);
    if (observability.jsonLogs()) {
      LogSetup.switchOn();
    }
    LogSetup.level(observability.logLevel());
    VertxBuilder builder = Vertx.builder();
    if (observability.metricsEnabled()) {
      // Meters are chosen when Vert.x is built: its own (HTTP, event bus, pools) exist only then.
      options.setMetricsOptions(SwitchboardMetrics.vertxOptions());
      builder.withMetrics(new MicrometerMetricsFactory());
    }
    return builder.with(options).withClusterManager(new HazelcastClusterManager(ClusterConfig.load()));
  }

  @Override
  public Supplier<? extends Deployable> verticleSupplier() {
    return () -> new SwitchboardVerticle(config);
  }
}
