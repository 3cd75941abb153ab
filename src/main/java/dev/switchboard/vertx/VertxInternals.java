package dev.switchboard.vertx;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.spi.cluster.ClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;

/**
 * The only place Switchboard uses Vert.x classes that are not public API ({@code io.vertx.core.internal},
 * {@code *.impl}, reflection). Vert.x 5 offers no public way to reach a connection's Netty
 * pipeline, to write a text frame from bytes already encoded, to drop a WebSocket's cross-thread
 * write queue, or to get the cluster manager of a running Vert.x; each hook below does one of these.
 * {@code VertxInternalsTest} exercises every hook against the Vert.x of the build and names the
 * version in its failure, so an upgrade that moves one fails the build rather than a running node.
 *
 * <p>Where a hook is missing at run time the callers fall back to plain Vert.x behaviour (or, for
 * bounded compression, refuse the connection) instead of failing a session.
 */
public final class VertxInternals {

  private static final Logger LOG = LoggerFactory.getLogger(VertxInternals.class);

  /** The Vert.x version on the class path, as its jar states it. */
  public static final String VERSION = readVersion();

  private static final Class<?> CONNECTION_BASE = classOrNull("io.vertx.core.net.impl.ConnectionBase");

  /** Reflection into the WebSocket's connection: its write queue field and the direct queue's constructor. */
  private static final Field SOCKET_CONNECTION;
  private static final Field WRITE_QUEUE;
  private static final Constructor<?> DIRECT_QUEUE;

  static {
    Field connection = null;
    Field queue = null;
    Constructor<?> direct = null;
    try {
      connection = Class.forName("io.vertx.core.http.impl.WebSocketImplBase").getDeclaredField("conn");
      Class<?> vertxConnection = Class.forName("io.vertx.core.net.impl.VertxConnection");
      queue = vertxConnection.getDeclaredField("outboundMessageQueue");
      direct = Class.forName("io.vertx.core.net.impl.VertxConnection$DirectOutboundMessageQueue")
          .getDeclaredConstructor(vertxConnection);
      connection.setAccessible(true);
      queue.setAccessible(true);
      direct.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.info("Vert.x {}: WebSocket connections keep Vert.x's cross-thread write queue: {}", VERSION, e.toString());
      connection = null;
      queue = null;
      direct = null;
    }
    SOCKET_CONNECTION = connection;
    WRITE_QUEUE = queue;
    DIRECT_QUEUE = direct;
  }

  private VertxInternals() {
  }

  /**
   * The Netty context of Vert.x's handler in an accepted WebSocket's pipeline (handlers go in before
   * or around it), or null when the socket is not Vert.x's own.
   */
  public static ChannelHandlerContext handlerContext(ServerWebSocket socket) {
    return socket instanceof WebSocketInternal internal ? internal.channelHandlerContext() : null;
  }

  /** Whether {@link #pipeline(HttpConnection)} can work with this Vert.x version. */
  public static boolean connectionPipelineAvailable() {
    return CONNECTION_BASE != null;
  }

  /**
   * The pipeline of a just accepted HTTP connection (before its first request is read), or null when
   * this Vert.x version does not give it.
   */
  public static ChannelPipeline pipeline(HttpConnection connection) {
    if (CONNECTION_BASE == null || !CONNECTION_BASE.isInstance(connection)) {
      return null;
    }
    return ((ConnectionBase) connection).channelHandlerContext().pipeline();
  }

  /**
   * A final text frame holding {@code utf8} as it is. {@code WebSocketFrame.textFrame} takes a string
   * and would encode it again.
   */
  public static WebSocketFrame textFrame(byte[] utf8) {
    return new WebSocketFrameImpl(WebSocketFrameType.TEXT, utf8, true);
  }

  /**
   * Gives a just accepted socket Vert.x's direct write queue, the one its strict thread mode uses for
   * HTTP connections: in Vert.x 5.0 the connection of a WebSocket upgrade ignores that mode and
   * allocates a cross-thread queue up front. Safe only when every write comes from the socket's own
   * event loop, as in the gateway; call there before anything is written. Returns whether it was
   * changed.
   */
  public static boolean useDirectWriteQueue(ServerWebSocket socket) {
    if (DIRECT_QUEUE == null || !SOCKET_CONNECTION.getDeclaringClass().isInstance(socket)) {
      return false;
    }
    try {
      Object connection = SOCKET_CONNECTION.get(socket);
      WRITE_QUEUE.set(connection, DIRECT_QUEUE.newInstance(connection));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("keeping the write queue of a WebSocket: {}", e.toString());
      return false;
    }
  }

  /** Whether the socket writes through the direct queue. */
  public static boolean hasDirectWriteQueue(ServerWebSocket socket) {
    if (DIRECT_QUEUE == null || !SOCKET_CONNECTION.getDeclaringClass().isInstance(socket)) {
      return false;
    }
    try {
      return WRITE_QUEUE.get(SOCKET_CONNECTION.get(socket)).getClass() == DIRECT_QUEUE.getDeclaringClass();
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  /** The cluster manager of a clustered Vert.x, null when it is not clustered. */
  public static ClusterManager clusterManager(Vertx vertx) {
    return vertx.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
  }

  private static Class<?> classOrNull(String name) {
    try {
      return Class.forName(name);
    } catch (ClassNotFoundException | LinkageError e) {
      LOG.info("Vert.x {}: {} is missing: {}", VERSION, name, e.toString());
      return null;
    }
  }

  private static String readVersion() {
    try (InputStream in = Vertx.class.getClassLoader().getResourceAsStream("META-INF/vertx/vertx-version.txt")) {
      return in == null ? "unknown" : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
