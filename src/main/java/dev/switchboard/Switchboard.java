package dev.switchboard;

import dev.switchboard.config.ClusterSecurityConfig;
import dev.switchboard.config.ConfigLoader;
import io.vertx.core.Deployable;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;

import java.util.function.Supplier;

/**
 * The command line: the Vert.x application launcher running {@link SwitchboardVerticle}.
 * {@code -conf file.json} (or inline JSON) overrides {@code conf/config.json}; environment
 * variables override both.
 */
public final class Switchboard extends VertxApplication implements VertxApplicationHooks {

  /** The {@code -conf} JSON, kept for the settings needed before Vert.x starts. */
  private JsonObject launcherConfig;

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
   * Clustered runs use Hazelcast configured by {@code conf/cluster.xml} (see {@link ClusterConfig}),
   * and the event bus between nodes gets the {@code cluster} section's TLS: it must be set in the
   * options Vert.x is built with, before any verticle reads the configuration.
   */
  @Override
  public VertxBuilder createVertxBuilder(VertxOptions options) {
    ClusterSecurityConfig.fromJson(ConfigLoader.loadNow(launcherConfig, System.getenv())).apply(options.getEventBusOptions());
    return Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(ClusterConfig.load()));
  }

  @Override
  public Supplier<? extends Deployable> verticleSupplier() {
    return SwitchboardVerticle::new;
  }
}
