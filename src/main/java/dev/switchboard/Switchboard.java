package dev.switchboard;

import io.vertx.core.Deployable;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;

import java.util.function.Supplier;

/**
 * The command line: the Vert.x application launcher running {@link SwitchboardVerticle}.
 * {@code -conf file.json} (or inline JSON) overrides {@code conf/config.json}; environment
 * variables override both.
 */
public final class Switchboard extends VertxApplication implements VertxApplicationHooks {

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

  /** Clustered runs use Hazelcast configured by {@code conf/cluster.xml}; see {@link ClusterConfig}. */
  @Override
  public VertxBuilder createVertxBuilder(VertxOptions options) {
    return Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(ClusterConfig.load()));
  }

  @Override
  public Supplier<? extends Deployable> verticleSupplier() {
    return SwitchboardVerticle::new;
  }
}
