package dev.switchboard.gateway;

import dev.switchboard.auth.Identity;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.RecordCodec;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.bus.RoomRequest;
import dev.switchboard.bus.Signal;
import dev.switchboard.config.GatewayConfig;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.JsonFrameParser;
import dev.switchboard.protocol.MessageFrameEncoder;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BooleanSupplier;

/**
 * Starts a {@link Session} for each admitted socket of one gateway instance and gives the sessions
 * what they need: the registry their deliveries come through, the router and inbox over the event
 * bus, timers on the instance's event loop, and token checks.
 */
final class SessionHost implements GatewayContext {

  private static final Logger LOG = LoggerFactory.getLogger(SessionHost.class);

  private final Vertx vertx;
  private final GatewayConfig config;
  private final LimitsConfig limits;
  private final Ids ids;
  private final JsonFrameParser parser;
  private final MessageFrameEncoder messageFrames = new MessageFrameEncoder();
  /** Null in insecure mode, where clients present no tokens. */
  private final TokenVerifier tokens;
  private final DeliveryOptions requestOptions;
  private final SendBatcher sendBatcher;
  private final SessionRegistry registry;
  private final SwitchboardMetrics metrics;
  private final BooleanSupplier behind;
  private final DeliveryOptions signalOptions = new DeliveryOptions().setLocalOnly(true);

  SessionHost(Vertx vertx, GatewayConfig config, LimitsConfig limits, Ids ids, TokenVerifier tokens,
      SendBatcher sendBatcher, SessionRegistry registry, SwitchboardMetrics metrics, BooleanSupplier behind) {
    this.vertx = vertx;
    this.config = config;
    this.limits = limits;
    this.ids = ids;
    this.parser = new JsonFrameParser(ids, limits.maxBodyBytes(), limits.maxJsonDepth(), limits.maxSignalBytes());
    this.tokens = tokens;
    this.requestOptions = new DeliveryOptions().setSendTimeout(limits.requestTimeoutMillis()).setLocalOnly(true)
        .setCodecName(RecordCodec.SHARED_JSON);
    this.sendBatcher = sendBatcher;
    this.registry = registry;
    this.metrics = metrics;
    this.behind = behind;
  }

  /** The {@link Admission.SessionStarter} of this instance. */
  void start(ServerWebSocket socket, Identity identity, String query, boolean json, Runnable ended) {
    String user = identity.user();
    Session session = new Session(this, socket, identity, json);
    registry.add(session);
    session.armDeadline();
    socket.frameHandler(session::onFrame);
    socket.exceptionHandler(e -> LOG.debug("socket of user {}: {}", user, e.getMessage()));
    socket.closeHandler(v -> {
      registry.remove(session);
      ended.run();
      if (session.joined()) {
        LOG.debug("user {} disconnected", user);
      }
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
      Admission.refuse(socket, e, config.textEscapeHtml());
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
    registry.join(session);
    return Future.succeededFuture();
  }

  @Override
  public Future<SendOutcome> submitSend(SendCommand command) {
    return sendBatcher.submit(command);
  }

  @Override
  public Future<JsonObject> roomRequest(RoomRequest request) {
    return vertx.eventBus().<JsonObject>request(Addresses.ROUTER_ROOM, request.toJson(), requestOptions).map(Message::body);
  }

  @Override
  public void sendSignal(Signal signal) {
    vertx.eventBus().send(Addresses.ROUTER_SIGNAL, signal, signalOptions);
  }

  @Override
  public boolean behind() {
    return behind.getAsBoolean();
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
  public void countDelivered(boolean live) {
    registry.countDelivered(live);
  }

  @Override
  public void reportDelivered() {
    registry.reportDelivered();
  }

  @Override
  public SwitchboardMetrics metrics() {
    return metrics;
  }
}
