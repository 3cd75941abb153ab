package dev.switchboard.gateway;

import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.DeliveryBatch;
import dev.switchboard.bus.GatewayLoad;
import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.config.AuthConfig;
import dev.switchboard.config.GatewayConfig;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.CloseCodes;
import dev.switchboard.protocol.Ids;
import dev.switchboard.routing.UserDirectory;
import dev.switchboard.vertx.VertxInternals;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One gateway instance: the HTTP server that serves {@code webroot/} and upgrades WebSockets, wired
 * to its parts. {@link Admission} decides which upgrades become sessions, {@link SessionHost} starts
 * and serves them, and {@link SessionRegistry} holds them and fans each committed message for a user
 * out to that user's sessions here (the node's router publishes every batch to all instances on
 * {@link Addresses#GATEWAY_DELIVER}). Several instances may be deployed; each has its own sessions.
 */
public final class GatewayVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);

  /** The WebSocket subprotocol of the JSON protocol; a connection without it speaks the seed text format. */
  public static final String JSON_SUBPROTOCOL = "switchboard.v1";

  private static final String CONNECTIONS_PER_IP = "switchboard.gateway.connectionsPerIp";
  /** The shared-random-port id of each gateway deployment listening on port 0, and the last id given. */
  private static final String SHARED_PORT_IDS = "switchboard.gateway.sharedPortIds";
  private static final String SHARED_PORT_LAST_ID = "switchboard.gateway.sharedPortLastId";
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final GatewayConfig config;
  private final LimitsConfig limits;
  private final AuthConfig auth;
  private final SwitchboardConfig settings;
  private final String instanceName = "gateway-" + INSTANCES.incrementAndGet();
  private UserDirectory directory;
  private SessionRegistry registry;
  private Admission admission;
  private HttpServer server;
  /** Static files of webroot: every HTTP request that is not a WebSocket upgrade. */
  private Router router;
  private HandshakeDeadlines handshakeDeadlines;
  /** Whether WebSockets may negotiate per-message compression (bounded, see {@link BoundedCompression}). */
  private boolean compression;
  private ProtocolViolationClose violationClose;
  private long heartbeatTimer = -1;
  /** Tells the router when this instance's loop falls behind (it then refuses new messages). */
  private LoopLag loopLag;
  private SwitchboardMetrics metrics;

  /** An instance with the node's configuration, parsed once by the caller. */
  public GatewayVerticle(SwitchboardConfig settings) {
    this.settings = settings;
    this.config = settings.gateway();
    this.limits = settings.limits();
    this.auth = settings.auth();
  }

  @Override
  public Future<?> start() {
    Ids ids = new Ids(limits.maxIdLength());
    directory = UserDirectory.create(vertx);
    metrics = SwitchboardMetrics.of(vertx);
    registry = new SessionRegistry(metrics);
    TokenVerifier tokens = auth.insecure() ? null : new TokenVerifier(vertx, auth);
    Authenticator authenticator = auth.insecure() ? new QueryUserAuthenticator() : new TokenAuthenticator(tokens);
    DeliveryOptions routerRequest = new DeliveryOptions().setSendTimeout(limits.requestTimeoutMillis()).setLocalOnly(true);
    SendBatcher sendBatcher = new SendBatcher(context,
        batch -> vertx.eventBus().<SendBatchResult>request(Addresses.ROUTER_SEND, batch, routerRequest).map(Message::body),
        metrics);
    SessionHost host = new SessionHost(vertx, config, limits, ids, tokens, sendBatcher, registry, metrics,
        () -> loopLag != null && loopLag.behind());
    LocalMap<String, Integer> connectionsPerIp = vertx.sharedData().getLocalMap(CONNECTIONS_PER_IP);
    admission = new Admission(config, auth, limits, ids, authenticator, connectionsPerIp, directory, metrics,
        this::prepareSocket, host::start);

    router = Router.router(vertx);
    Path webroot = Path.of(config.webroot());
    // max-age 0: browsers revalidate (If-Modified-Since, 304) on every load, so pages and the
    // client module they import change together when a new version is deployed.
    router.route().handler((webroot.isAbsolute()
        ? StaticHandler.create(FileSystemAccess.ROOT, config.webroot())
        : StaticHandler.create(FileSystemAccess.RELATIVE, config.webroot())).setMaxAgeSeconds(0));
    handshakeDeadlines = new HandshakeDeadlines(vertx, config.handshakeTimeoutMillis());
    violationClose = new ProtocolViolationClose(config.closeTimeoutSeconds() * 1000L, config.maxFrameBytes());
    compression = config.compression() && BoundedCompression.available();
    if (config.compression() && !compression) {
      LOG.warn("gateway.compression is on, but this Vert.x version does not let its inflation be bounded: compression stays off");
    }

    HttpServerOptions options = serverOptions();
    server = vertx.createHttpServer(options)
        .connectionHandler(this::onConnection)
        .requestHandler(this::onRequest)
        .webSocketHandshakeHandler(this::onHandshake);
    Future<Void> deliveries = vertx.eventBus().<DeliveryBatch>localConsumer(Addresses.GATEWAY_DELIVER,
        message -> registry.deliver(message.body())).completion();
    return deliveries.compose(v -> server.listen(listenAddress())).onSuccess(s -> {
      heartbeatTimer = vertx.setPeriodic(config.heartbeatIntervalMillis(), id -> heartbeat());
      loopLag = new LoopLag(vertx, limits.maxDeliveryLagMillis(), this::reportLoad);
      loopLag.start();
      metrics.watchLoopLag(instanceName, loopLag::lastLagMillis);
      LOG.info("gateway listening on {}://{}:{} (WebSocket paths {})", options.isSsl() ? "https" : "http", config.host(),
          s.actualPort(), config.webSocketPaths());
    });
  }

  private HttpServerOptions serverOptions() {
    return settings.tls().apply(new HttpServerOptions())
        .setMaxWebSocketFrameSize(config.maxFrameBytes())
        .setMaxWebSocketMessageSize(config.maxFrameBytes())
        // Off unless configured: a compressed frame costs inflation before any size check, and each
        // compressing connection holds a deflate window both ways. The per-frame draft is never offered.
        .setPerMessageWebSocketCompressionSupported(compression)
        .setPerFrameWebSocketCompressionSupported(false)
        // A dead peer never answers our close frame: drop the TCP connection soon after.
        .setWebSocketClosingTimeout(config.closeTimeoutSeconds())
        // HTTP/1.1 only. With h2c detection on (Vert.x's default) the connection handler runs only
        // once a whole request head has arrived: too late to start the handshake deadline.
        .setHttp2ClearTextEnabled(false)
        // With TLS, the TLS handshake before the request has the same limit.
        .setSslHandshakeTimeout(config.handshakeTimeoutMillis())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS)
        // Keep-alive HTTP connections that fall silent are closed; WebSockets stay busy with pings.
        .setIdleTimeout((int) (config.idleTimeoutMillis() / 1000))
        .setWebSocketSubProtocols(List.of(JSON_SUBPROTOCOL))
        // gzip/deflate for webroot's files when the browser asks (Accept-Encoding).
        .setCompressionSupported(true)
        // Every socket is used only from this verticle's event loop, so Vert.x can skip the
        // per-connection outbound queue that idle sessions would otherwise each hold.
        .setStrictThreadMode(true);
  }

  /**
   * Where to listen. Port 0 must give all instances of this deployment one port: each plain listen
   * on 0 would bind a random port of its own, and clients would find only the first. Vert.x shares
   * a random port among servers naming the same id; each deployment takes an id of its own, so
   * several servers in one Vert.x (tests do that) still get a port each.
   */
  private SocketAddress listenAddress() {
    if (config.port() != 0) {
      return SocketAddress.inetSocketAddress(config.port(), config.host());
    }
    LocalMap<String, Integer> lastId = vertx.sharedData().getLocalMap(SHARED_PORT_LAST_ID);
    LocalMap<String, Integer> byDeployment = vertx.sharedData().getLocalMap(SHARED_PORT_IDS);
    int id = byDeployment.computeIfAbsent(deploymentID(), deployment -> lastId.merge("last", 1, Integer::sum));
    return SocketAddress.sharedRandomPort(id, config.host());
  }

  @Override
  public Future<?> stop() {
    if (config.port() == 0) {
      vertx.sharedData().getLocalMap(SHARED_PORT_IDS).remove(deploymentID());
    }
    vertx.cancelTimer(heartbeatTimer);
    if (loopLag != null) {
      metrics.unwatchLoopLag(instanceName);
      loopLag.stop();
      if (loopLag.behind()) {
        reportLoad(false, 0); // an instance that is gone holds nothing back
      }
    }
    if (registry != null) {
      registry.closeAll(CloseCodes.SERVICE_RESTART, "server is restarting, reconnect");
    }
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** The port the gateway listens on (the real one when configured with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private void onConnection(HttpConnection connection) {
    if (compression && !BoundedCompression.install(connection, config.maxFrameBytes())) {
      // Vert.x's own extension handler would inflate without limit: better no connection.
      LOG.warn("closing a connection from {}: the bounded WebSocket compression could not be installed",
          connection.remoteAddress());
      connection.close();
      return;
    }
    handshakeDeadlines.watch(connection);
  }

  private void onRequest(HttpServerRequest request) {
    handshakeDeadlines.arrived(request.remoteAddress());
    router.handle(request);
  }

  private void onHandshake(ServerWebSocketHandshake handshake) {
    handshakeDeadlines.arrived(handshake.remoteAddress());
    admission.onHandshake(handshake);
  }

  /** The gateway's handlers in an accepted socket's pipeline, before anything is read or written. */
  private void prepareSocket(ServerWebSocket socket) {
    VertxInternals.useDirectWriteQueue(socket);
    violationClose.install(socket);
    FlushAtTurnEnd.install(socket);
    IdleHandlerRemoval.apply(socket);
  }

  private void reportLoad(boolean behind, long lagMillis) {
    if (behind) {
      LOG.warn("{}: event loop {} ms behind (limits.maxDeliveryLagMillis {}): the router refuses new messages until it "
          + "catches up", instanceName, lagMillis, limits.maxDeliveryLagMillis());
    } else {
      LOG.info("{}: event loop caught up ({} ms late)", instanceName, lagMillis);
    }
    vertx.eventBus().publish(Addresses.ROUTER_LOAD, new GatewayLoad(instanceName, behind, lagMillis).toJson(),
        new DeliveryOptions().setLocalOnly(true));
  }

  /** Has the directory repair the entries whose change failed, and pings every session. */
  private void heartbeat() {
    directory.repair();
    registry.pingAll();
  }
}
