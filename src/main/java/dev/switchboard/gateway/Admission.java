package dev.switchboard.gateway;

import dev.switchboard.auth.Identity;
import dev.switchboard.config.AuthConfig;
import dev.switchboard.config.GatewayConfig;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.CloseCodes;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.ServerFrames;
import dev.switchboard.protocol.TextFrame;
import dev.switchboard.routing.UserDirectory;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.ServerWebSocketHandshake;
import io.vertx.core.shareddata.LocalMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.function.Consumer;

/**
 * Decides whether a WebSocket upgrade becomes a session: the path, the page's origin, the
 * connections of the client's IP, the client's identity, and the user's sessions across the
 * cluster, in that order. A refused upgrade gets an HTTP status; a client refused once the socket is
 * open (bad credentials, too many sessions) is told why in its own format before the close.
 */
final class Admission {

  private static final Logger LOG = LoggerFactory.getLogger(Admission.class);

  /**
   * Starts the session of an admitted socket; the socket stays paused until this returns. The
   * session must run {@code ended} once its socket has closed.
   */
  interface SessionStarter {
    void start(ServerWebSocket socket, Identity identity, String query, boolean json, Runnable ended);
  }

  private final GatewayConfig config;
  private final AuthConfig auth;
  private final LimitsConfig limits;
  private final Ids ids;
  private final Authenticator authenticator;
  /** Open WebSockets per client IP on this node, shared by all gateway instances. */
  private final LocalMap<String, Integer> connectionsPerIp;
  private final UserDirectory directory;
  private final SwitchboardMetrics metrics;
  /** Readies an accepted socket's pipeline before anything is read from or written to it. */
  private final Consumer<ServerWebSocket> prepare;
  private final SessionStarter starter;

  Admission(GatewayConfig config, AuthConfig auth, LimitsConfig limits, Ids ids, Authenticator authenticator,
      LocalMap<String, Integer> connectionsPerIp, UserDirectory directory, SwitchboardMetrics metrics,
      Consumer<ServerWebSocket> prepare, SessionStarter starter) {
    this.config = config;
    this.auth = auth;
    this.limits = limits;
    this.ids = ids;
    this.authenticator = authenticator;
    this.connectionsPerIp = connectionsPerIp;
    this.directory = directory;
    this.metrics = metrics;
    this.prepare = prepare;
    this.starter = starter;
  }

  void onHandshake(ServerWebSocketHandshake handshake) {
    if (!config.webSocketPaths().contains(handshake.path())) {
      handshake.reject(404);
      return;
    }
    String origin = handshake.headers().get("Origin");
    if (!auth.insecure() && !originAllowed(origin, handshake.headers().get("Host"), auth.allowedOrigins())) {
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
              prepare.accept(socket);
              socket.closeHandler(v -> releaseIp(ip));
              if (identity.succeeded()) {
                onConnected(socket, identity.result(), query, ip);
              } else {
                refuse(socket, identity.cause());
              }
            }));
  }

  /**
   * Pages from the gateway's own origin (webroot) and from {@code auth.allowedOrigins} may connect;
   * clients that send no Origin are not browsers, and the check is not for them.
   */
  static boolean originAllowed(String origin, String host, Collection<String> allowedOrigins) {
    if (origin == null || allowedOrigins.contains(origin)) {
      return true;
    }
    int scheme = origin.indexOf("://");
    return host != null && scheme > 0 && origin.substring(scheme + 3).equalsIgnoreCase(host);
  }

  private void onConnected(ServerWebSocket socket, Identity identity, String query, String ip) {
    String user = identity.user();
    boolean json = GatewayVerticle.JSON_SUBPROTOCOL.equals(socket.subProtocol());
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
        starter.start(socket, identity, query, json, () -> ended(user, ip));
      }
      socket.resume();
    });
  }

  private void refuse(ServerWebSocket socket, Throwable cause) {
    refuse(socket, cause, config.textEscapeHtml());
  }

  /** Tells the client why it cannot stay, in its own format, then closes. */
  static void refuse(ServerWebSocket socket, Throwable cause, boolean textEscapeHtml) {
    ProtocolException e = cause instanceof ProtocolException p ? p : new ProtocolException(ErrorCode.INTERNAL, "could not accept");
    boolean json = GatewayVerticle.JSON_SUBPROTOCOL.equals(socket.subProtocol());
    socket.writeTextMessage(json ? ServerFrames.error(null, e.code(), e.getMessage()) : TextFrame.error(e.code(), e.getMessage(), textEscapeHtml));
    socket.close(CloseCodes.POLICY_VIOLATION, CloseCodes.reason(e.getMessage()));
  }

  /** An admitted session has closed: it no longer counts against its IP's or its user's limit. */
  private void ended(String user, String ip) {
    releaseIp(ip);
    leaveDirectory(user); // every started session was counted when accepted
  }

  private void releaseIp(String ip) {
    connectionsPerIp.computeIfPresent(ip, (k, n) -> n <= 1 ? null : n - 1);
  }

  private void leaveDirectory(String user) {
    metrics.directory("leave", directory.leave(user)).onFailure(e -> LOG.warn("user directory: leave of {} failed: {}", user, e.getMessage()));
  }
}
