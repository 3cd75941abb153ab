package dev.switchboard;

import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.gateway.GatewayVerticle;
import dev.switchboard.push.PushApiVerticle;
import dev.switchboard.routing.RouterVerticle;
import dev.switchboard.storage.InboxVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Loads the configuration and deploys the four verticles, store first, so that when this verticle
 * is deployed every server listens and every consumer is registered.
 */
public final class SwitchboardVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SwitchboardVerticle.class);

  private final List<GatewayVerticle> gateways = new CopyOnWriteArrayList<>();
  private PushApiVerticle pushApi;
  private SwitchboardConfig settings;

  @Override
  public Future<?> start() {
    return ConfigLoader.load(vertx, config(), System.getenv()).compose(json -> {
      settings = SwitchboardConfig.fromJson(json);
      DeploymentOptions one = new DeploymentOptions().setConfig(json);
      pushApi = new PushApiVerticle();
      return vertx.deployVerticle(new InboxVerticle(), one)
          .compose(id -> vertx.deployVerticle(new RouterVerticle(), one))
          .compose(id -> vertx.deployVerticle(() -> {
            GatewayVerticle gateway = new GatewayVerticle();
            gateways.add(gateway);
            return gateway;
          }, new DeploymentOptions(one).setInstances(settings.gateway().instances())))
          .compose(id -> vertx.deployVerticle(pushApi, one))
          .onSuccess(id -> LOG.info("switchboard started: gateway port {}, push API port {}, inbox on {}, transport {}",
              gatewayPort(), pushPort(), settings.inbox().engine() == InboxConfig.Engine.SQLITE
                  ? "SQLite in " + settings.inbox().dataDir() : "PostgreSQL",
              vertx.isNativeTransportEnabled() ? "epoll" : "nio"));
    });
  }

  public int gatewayPort() {
    return gateways.get(0).actualPort();
  }

  public int pushPort() {
    return pushApi.actualPort();
  }

  public SwitchboardConfig settings() {
    return settings;
  }

}
