package dev.switchboard.gateway;

import dev.switchboard.auth.Identity;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.DeliveryBatch;
import dev.switchboard.bus.GatewayLoad;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.RecordCodec;
import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.AuthConfig;
import dev.switchboard.config.GatewayConfig;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.config.TlsConfig;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.CloseCodes;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.JsonFrameParser;
import dev.switchboard.protocol.MessageFrameEncoder;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.ServerFrames;
import dev.switchboard.protocol.TextFrame;
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
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds client WebSockets and serves {@code webroot/}. For each user with a session here it keeps
 * one local consumer on the user's address and fans each message out to that user's sessions.
 * Several instances may be deployed; each has its own sessions.
 */
public final class GatewayVerticle extends VerticleBase implements GatewayContext {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);

  /** The WebSocket subprotocol of the JSON protocol; a connection without it speaks the seed text format. */
  public static final String JSON_SUBPROTOCOL = "switchboard.v1";

  private GatewayConfig config;
  private LimitsConfig limits;
  private Ids ids;
  private JsonFrameParser parser;
  private UserDirectory directory;
  private DeliveryOptions requestOptions;
  private AuthConfig auth;
  private Authenticator authenticator;
  private TokenVerifier tokens;
  /** The joined sessions of each user on this instance: where delivered messages go. */
  private final Map<String, List<Session>> users = new HashMap<>();
  private SendBatcher sendBatcher;
  private final Set<Session> sessions = new HashSet<>();
  private final MessageFrameEncoder messageFrames = new MessageFrameEncoder();
  private HttpServer server;
  /** Static files of webroot: every HTTP request that is not a WebSocket upgrade. */
  private Router router;
  private HandshakeDeadlines handshakeDeadlines;
  /** Whether WebSockets may negotiate per-message compression (bounded, see {@link BoundedCompression}). */
  private boolean compression;
  private ProtocolViolationClose violationClose;
  /** Open WebSockets per client IP on this node, shared by all gateway instances. */
  private LocalMap<String, Integer> connectionsPerIp;
  private static final String CONNECTIONS_PER_IP = "switchboard.gateway.connectionsPerIp";
  /** The shared-random-port id of each gateway deployment listening on port 0, and the last id given. */
  private static final String SHARED_PORT_IDS = "switchboard.gateway.sharedPortIds";
  private static final String SHARED_PORT_LAST_ID = "switchboard.gateway.sharedPortLastId";
  private long heartbeatTimer = -1;
  /** Tells the router when this instance's loop falls behind (it then refuses new messages). */
  private LoopLag loopLag;
  private final String instanceName = "gateway-" + INSTANCES.incrementAndGet();
  private static final AtomicInteger INSTANCES = new AtomicInteger();
  private SwitchboardMetrics metrics;

  @Override
  public Future<?> start() {
    config = GatewayConfig.fromJson(config());
    limits = LimitsConfig.fromJson(config());
    ids = new Ids(limits.maxIdLength());
    parser = new JsonFrameParser(ids, limits.maxBodyBytes(), limits.maxJsonDepth());
    connectionsPerIp = vertx.sharedData().getLocalMap(CONNECTIONS_PER_IP);
    directory = UserDirectory.create(vertx);
    metrics = SwitchboardMetrics.of(vertx);
    auth = AuthConfig.fromJson(config());
    tokens = auth.insecure() ? null : new TokenVerifier(vertx, auth);
    authenticator = auth.insecure() ? new QueryUserAuthenticator() : new TokenAuthenticator(tokens);
    requestOptions = new DeliveryOptions().setSendTimeout(limits.requestTimeoutMillis()).setLocalOnly(true)
        .setCodecName(RecordCodec.SHARED_JSON);

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

    HttpServerOptions options = TlsConfig.fromJson(config()).apply(new HttpServerOptions())
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
        // Every socket is used only from this verticle's event loop: Vert.x can then skip a
        // per-connection outbound queue (about 8 KiB each, measured in docs/benchmarks.md).
        .setStrictThreadMode(true);
    server = vertx.createHttpServer(options)
        .connectionHandler(this::onConnection)
        .requestHandler(this::onRequest)
        .webSocketHandshakeHandler(this::onHandshake);
    DeliveryOptions routerRequest = new DeliveryOptions().setSendTimeout(limits.requestTimeoutMillis()).setLocalOnly(true);
    sendBatcher = new SendBatcher(context,
        batch -> vertx.eventBus().<SendBatchResult>request(Addresses.ROUTER_SEND, batch, routerRequest).map(Message::body));
    Future<Void> deliveries = vertx.eventBus().<DeliveryBatch>localConsumer(Addresses.GATEWAY_DELIVER, this::onDeliveries)
        .completion();
    return deliveries.compose(v -> server.listen(listenAddress())).onSuccess(s -> {
      heartbeatTimer = vertx.setPeriodic(config.heartbeatIntervalMillis(), id -> heartbeat());
      loopLag = new LoopLag(vertx, limits.maxDeliveryLagMillis(), this::reportLoad);
      loopLag.start();
      metrics.watchLoopLag(instanceName, loopLag::lastLagMillis);
      LOG.info("gateway listening on {}://{}:{} (WebSocket paths {})", options.isSsl() ? "https" : "http", config.host(),
          s.actualPort(), config.webSocketPaths());
    });
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
    if (config != null && config.port() == 0) {
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
    for (Session session : new ArrayList<>(sessions)) {
      session.close(CloseCodes.SERVICE_RESTART, "server is restarting, reconnect");
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
    if (!config.webSocketPaths().contains(handshake.path())) {
      handshake.reject(404);
      return;
    }
    String origin = handshake.headers().get("Origin");
    if (!auth.insecure() && !originAllowed(origin, handshake.headers().get("Host"))) {
      // A page from another site must not open a socket with the visitor's credentials.
      LOG.debug("refused WebSocket from origin {}", origin);
      handshake.reject(403);
      return;
    }
    String ip = handshake.remoteAddress() == null ? "unknown" : handshake.remoteAddress().hostAddress();
    if (connectionsPerIp.merge(ip, 1, Integer::sum) > limits.maxConnectionsPerIp()) {
      releaseIp(ip);
      LOG.debug("refused WebSocket from {}: too many connections", ip);
      handshake.reject(429);
      return;
    }
    String query = handshake.query();
    authenticator.authenticate(handshake)
        .map(identity -> {
          ids.requireValid("user", identity.user());
          return identity;
        })
        .onComplete(identity -> handshake.accept()
            .onFailure(e -> releaseIp(ip))
            .onSuccess(socket -> {
              VertxInternals.useDirectWriteQueue(socket);
              violationClose.install(socket);
              FlushAtTurnEnd.install(socket);
              IdleHandlerRemoval.apply(socket);
              socket.closeHandler(v -> releaseIp(ip));
              if (identity.succeeded()) {
                onConnected(socket, identity.result(), query, ip);
              } else {
                refuse(socket, identity.cause());
              }
            }));
  }

  private void releaseIp(String ip) {
    connectionsPerIp.computeIfPresent(ip, (k, n) -> n <= 1 ? null : n - 1);
  }

  /**
   * Pages from the gateway's own origin (webroot) and from {@code auth.allowedOrigins} may connect;
   * clients that send no Origin are not browsers, and the check is not for them.
   */
  private boolean originAllowed(String origin, String host) {
    if (origin == null || auth.allowedOrigins().contains(origin)) {
      return true;
    }
    int scheme = origin.indexOf("://");
    return host != null && scheme > 0 && origin.substring(scheme + 3).equalsIgnoreCase(host);
  }

  /** Tells the client why it cannot stay, in its own format, then closes. */
  private void refuse(ServerWebSocket socket, Throwable cause) {
    ProtocolException e = cause instanceof ProtocolException p ? p : new ProtocolException(ErrorCode.INTERNAL, "could not accept");
    boolean json = JSON_SUBPROTOCOL.equals(socket.subProtocol());
    socket.writeTextMessage(json ? ServerFrames.error(null, e.code(), e.getMessage()) : TextFrame.error(e.code(), e.getMessage(), config.textEscapeHtml()));
    socket.close(CloseCodes.POLICY_VIOLATION, CloseCodes.reason(e.getMessage()));
  }

  private void onConnected(ServerWebSocket socket, Identity identity, String query, String ip) {
    String user = identity.user();
    boolean json = JSON_SUBPROTOCOL.equals(socket.subProtocol());
    // Nothing is read until the session limit is checked and the handlers are in place.
    socket.pause();
    // A session counts against the limit from the moment it is accepted, whether its delivery starts
    // now or with a later hello; the directory checks the limit and counts it in one atomic step.
    // When the directory cannot say, the session is refused: the limit never fails open.
    metrics.directory("join", directory.join(user, limits.maxSessionsPerUser())).onComplete(joined -> {
      if (joined.failed()) {
        LOG.warn("user directory: join of {} failed: {}", user, joined.cause().getMessage());
        socket.close(CloseCodes.INTERNAL_ERROR, "could not subscribe, reconnect");
        return;
      }
      if (!joined.result()) {
        refuse(socket, new ProtocolException(ErrorCode.TOO_MANY_SESSIONS,
            "user " + user + " already has " + limits.maxSessionsPerUser() + " sessions"));
      } else if (socket.isClosed()) {
        leaveDirectory(user);
        return;
      } else {
        startSession(socket, identity, query, json, ip);
      }
      socket.resume();
    });
  }

  private void leaveDirectory(String user) {
    metrics.directory("leave", directory.leave(user)).onFailure(e -> LOG.warn("user directory: leave of {} failed: {}", user, e.getMessage()));
  }

  private void startSession(ServerWebSocket socket, Identity identity, String query, boolean json, String ip) {
    String user = identity.user();
    Session session = new Session(this, socket, identity, json);
    sessions.add(session);
    metrics.connected(json);
    session.armDeadline();
    socket.frameHandler(session::onFrame);
    socket.exceptionHandler(e -> LOG.debug("socket of user {}: {}", user, e.getMessage()));
    socket.closeHandler(v -> {
      releaseIp(ip);
      onClosed(session);
    });
    LOG.atDebug().addKeyValue("user", user)
        .log("user {} connected from {} ({})", user, socket.remoteAddress(), json ? "json" : "text");
    if (!json) {
      session.begin(Session.TEXT_DEVICE, null);
      return;
    }
    String device = QueryParams.first(query, "device");
    if (device == null) {
      return; // delivery starts with the client's hello
    }
    try {
      String since = QueryParams.first(query, "since");
      session.begin(ids.requireValidDevice(device), since == null ? null : parseSince(since));
    } catch (ProtocolException e) {
      refuse(socket, e);
    }
  }

  private static Long parseSince(String since) {
    try {
      long value = Long.parseLong(since);
      if (value >= 0) {
        return value;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new ProtocolException(ErrorCode.INVALID_FIELD, "since must be a whole number >= 0");
  }

  @Override
  public Future<Void> join(Session session) {
    // The directory has named this node for the user since the session was accepted, before any
    // backlog read: a message committed after the read is pushed here and reaches this group.
    users.computeIfAbsent(session.user(), u -> new ArrayList<>(2)).add(session);
    return Future.succeededFuture();
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

  /** Committed messages for users with sessions on this node: each to the sessions held here. */
  private void onDeliveries(Message<DeliveryBatch> message) {
    for (StoredMessage stored : message.body().messages()) {
      List<Session> group = users.get(stored.to());
      if (group != null) {
        Delivery delivery = new Delivery(stored, true);
        for (Session session : group) {
          try {
            session.onLive(delivery);
          } catch (RuntimeException e) {
            // One broken session must not cost the others their delivery. Closed, its client
            // reconnects and reads what it missed from the store.
            LOG.error("delivery to a session of user {} failed; closing that session", stored.to(), e);
            session.close(CloseCodes.INTERNAL_ERROR, "internal error");
          }
        }
      }
    }
  }

  @Override
  public Future<SendOutcome> submitSend(SendCommand command) {
    return sendBatcher.submit(command);
  }

  private void onClosed(Session session) {
    session.markClosed();
    if (sessions.remove(session)) {
      metrics.disconnected(session.json(), session.closeStatus());
    }
    leaveDirectory(session.user()); // every started session was counted when accepted
    if (!session.joined()) {
      return;
    }
    List<Session> group = users.get(session.user());
    if (group != null && group.remove(session) && group.isEmpty()) {
      users.remove(session.user());
    }
    LOG.debug("user {} disconnected", session.user());
  }

  /**
   * Pings every session (each session's own timer closes it when silent or expired), and has the
   * directory repair the entries whose change failed.
   */
  private void heartbeat() {
    directory.repair();
    for (Session session : new ArrayList<>(sessions)) { // a failed ping may close its session
      session.ping();
    }
  }

  @Override
  public GatewayConfig settings() {
    return config;
  }

  @Override
  public LimitsConfig limits() {
    return limits;
  }

  @Override
  public Ids ids() {
    return ids;
  }

  @Override
  public JsonFrameParser parser() {
    return parser;
  }

  @Override
  public MessageFrameEncoder messageFrames() {
    return messageFrames;
  }

  @Override
  public Future<Identity> verifyToken(String token) {
    return tokens == null
        ? Future.failedFuture(new ProtocolException(ErrorCode.BAD_STATE, "this server does not use tokens"))
        : tokens.verify(token);
  }

  @Override
  public Future<InboxPage> readPage(ReadRequest request) {
    return vertx.eventBus().<InboxPage>request(Addresses.INBOX_READ, request.toJson(), requestOptions).map(Message::body);
  }

  @Override
  public void send(String address, JsonObject body) {
    vertx.eventBus().send(address, body, requestOptions);
  }

  @Override
  public long setTimer(long delayMillis, Runnable action) {
    return vertx.setTimer(delayMillis, id -> action.run());
  }

  @Override
  public void cancelTimer(long timerId) {
    vertx.cancelTimer(timerId);
  }

  @Override
  public SwitchboardMetrics metrics() {
    return metrics;
  }
}
