package dev.switchboard;

import dev.switchboard.bus.RecordCodec;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.gateway.GatewayVerticle;
import dev.switchboard.logging.LogSetup;
import dev.switchboard.metrics.ClusterView;
import dev.switchboard.push.PushApiVerticle;
import dev.switchboard.routing.DirectoryReplicaVerticle;
import dev.switchboard.routing.RouterVerticle;
import dev.switchboard.webhook.WebhookVerticle;
import dev.switchboard.storage.InboxVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Validates the configuration into a {@link SwitchboardConfig}, once, and deploys the four verticles,
 * store first, each handed its part (in a cluster, the directory replica before the router), so that
 * when this verticle is deployed every server listens and every consumer is registered. The command line gives it the configuration {@link Switchboard}
 * has already loaded; deployed without one (embedded, tests), it loads it itself.
 */
public final class SwitchboardVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SwitchboardVerticle.class);

  private final List<GatewayVerticle> gateways = new CopyOnWriteArrayList<>();
  private PushApiVerticle pushApi;
  private SwitchboardConfig settings;

  /** The configuration as loaded by the command line, all layers merged; null to load it at start. */
  private final JsonObject loaded;

  /** Loads the configuration at start: {@code conf/config.json}, this deployment's config, the environment. */
  public SwitchboardVerticle() {
    this(null);
  }

  /** Runs with the configuration the command line has loaded (validated here, at start). */
  public SwitchboardVerticle(JsonObject loaded) {
    this.loaded = loaded;
  }

  @Override
  public Future<?> start() {
    LogSetup.nodeId(new ClusterView(vertx).nodeId());
    Future<JsonObject> json = loaded != null ? Future.succeededFuture(loaded) : ConfigLoader.load(vertx, config(), System.getenv());
    return json.compose(merged -> {
      settings = SwitchboardConfig.fromJson(merged);
      checkInsecureMode(settings);
      checkClusterStore(settings);
      checkNodeKey(settings);
      registerCodecs();
      pushApi = new PushApiVerticle(settings);
      return vertx.deployVerticle(new InboxVerticle(settings.inbox()))
          .compose(id -> vertx.isClustered()
              ? vertx.deployVerticle(new DirectoryReplicaVerticle(settings.cluster().nodeKey(),
                  !settings.auth().insecure(), settings.cluster().directoryTimeoutMillis()))
              : Future.succeededFuture(id))
          .compose(id -> vertx.deployVerticle(new RouterVerticle(settings)))
          .compose(id -> settings.webhook().enabled()
              ? vertx.deployVerticle(new WebhookVerticle(settings.webhook(), !settings.inbox().embedded()))
              : Future.succeededFuture(id))
          .compose(id -> vertx.deployVerticle(() -> {
            GatewayVerticle gateway = new GatewayVerticle(settings);
            gateways.add(gateway);
            return gateway;
          }, new DeploymentOptions().setInstances(settings.gateway().instances())))
          .compose(id -> vertx.deployVerticle(pushApi))
          .onSuccess(id -> LOG.info("switchboard started: gateway port {}, push API port {}, inbox on {}, transport {}",
              gatewayPort(), pushPort(), switch (settings.inbox().engine()) {
                case LOG -> "the log in " + settings.inbox().dataDir();
                case POSTGRES -> "PostgreSQL";
              },
              vertx.isNativeTransportEnabled() ? "epoll" : "nio"));
    });
  }

  /** Once per Vert.x instance, before the verticles that use it are deployed. */
  private void registerCodecs() {
    try {
      RecordCodec.registerAll(vertx.eventBus());
    } catch (IllegalStateException alreadyRegistered) {
      // another Switchboard deployment in this Vert.x registered it
    }
  }

  /**
   * Insecure mode lets anyone claim any user id: refuse it on an address others can reach unless
   * {@code auth.insecureOnPublicAddress} says so, and say it loudly at every start.
   */
  private static void checkInsecureMode(SwitchboardConfig settings) {
    if (!settings.auth().insecure()) {
      return;
    }
    boolean loopbackOnly = isLoopback(settings.gateway().host()) && isLoopback(settings.push().host());
    if (!loopbackOnly && !settings.auth().insecureOnPublicAddress()) {
      throw new IllegalStateException("auth.mode is insecure (anyone can connect as any user, anyone can push) and the "
          + "servers listen beyond loopback (" + settings.gateway().host() + ", " + settings.push().host() + "). "
          + "Configure auth.mode=jwt, or set auth.insecureOnPublicAddress=true if you really mean it.");
    }
    LOG.warn("INSECURE MODE: clients choose their user id with ?user= and the push API needs no key. "
        + "For demos only; set auth.mode=jwt for real use.");
  }

  /**
   * Embedded inboxes on several nodes would each hold part of a user's messages, and a client
   * moving between nodes would miss some: a clustered node needs the shared store.
   */
  private void checkClusterStore(SwitchboardConfig settings) {
    if (vertx.isClustered() && settings.inbox().embedded() && !settings.inbox().allowEmbeddedInCluster()) {
      throw new IllegalStateException("clustered with inbox.engine=" + settings.inbox().engine().name().toLowerCase(Locale.ROOT)
          + ": every node would keep its own inboxes and "
          + "messages would be lost between nodes. Set inbox.engine=postgres (shared), or "
          + "inbox.allowEmbeddedInCluster=true for a single-node cluster.");
    }
  }

  /**
   * In jwt mode a node delivers what other nodes relay to it only with {@code cluster.nodeKey}, so
   * a clustered node without one would drop every relay: refuse to start instead.
   */
  private void checkNodeKey(SwitchboardConfig settings) {
    if (vertx.isClustered() && !settings.auth().insecure() && settings.cluster().nodeKey().isEmpty()) {
      throw new IllegalStateException("clustered with auth.mode=jwt and no cluster.nodeKey: set cluster.nodeKey to "
          + "the same secret on every node (other members of the cluster could otherwise hand messages to this "
          + "node's sessions in any user's name)");
    }
  }

  /** Loopback by its literal form: no DNS lookup on the event loop. */
  static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
  }

  public int gatewayPort() {
    return gateways.get(0).actualPort();
  }

  /** The port of each gateway instance, in the order they were created. */
  public List<Integer> gatewayPorts() {
    return gateways.stream().map(GatewayVerticle::actualPort).toList();
  }

  public int pushPort() {
    return pushApi.actualPort();
  }

  public SwitchboardConfig settings() {
    return settings;
  }

}
