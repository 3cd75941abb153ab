package dev.switchboard.support;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A WebSocket test client over a real socket: frames are queued as they arrive and taken in order
 * with {@link #next()}, so a test states exactly which frames it expects and in what order.
 */
public final class WsClient {

  private final WebSocketClient client;
  private final WebSocket socket;
  private final ArrayDeque<String> frames = new ArrayDeque<>();
  private final ArrayDeque<Promise<String>> waiters = new ArrayDeque<>();
  private final Promise<Short> closed = Promise.promise();
  private boolean gone;

  private WsClient(WebSocketClient client, WebSocket socket) {
    this.client = client;
    this.socket = socket;
    socket.textMessageHandler(this::onText);
    socket.closeHandler(v -> {
      Short code = socket.closeStatusCode();
      List<Promise<String>> left;
      synchronized (this) {
        gone = true;
        left = new ArrayList<>(waiters);
        waiters.clear();
      }
      closed.tryComplete(code);
      left.forEach(waiter -> waiter.tryFail("socket closed with " + code + " " + socket.closeReason()));
    });
  }

  public static Future<WsClient> connect(Vertx vertx, int port, String uri, boolean json) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri);
    if (json) {
      options.addSubProtocol("switchboard.v1");
    }
    return connect(vertx, options);
  }

  /** Connects with full control of headers and subprotocols. */
  public static Future<WsClient> connect(Vertx vertx, WebSocketConnectOptions options) {
    return connect(vertx, new WebSocketClientOptions(), options);
  }

  /** Connects with full control of the client (TLS, for one) as well. */
  public static Future<WsClient> connect(Vertx vertx, WebSocketClientOptions clientOptions, WebSocketConnectOptions options) {
    WebSocketClient client = HeldClients.hold(vertx.createWebSocketClient(new WebSocketClientOptions(clientOptions)
        .setMaxFrameSize(4 * 1024 * 1024).setMaxMessageSize(16 * 1024 * 1024)));
    // Held until connected; from then on the WsClient holds it.
    return client.connect(options)
        .andThen(connected -> HeldClients.release(client))
        .onFailure(e -> client.close())
        .map(ws -> new WsClient(client, ws));
  }

  private void onText(String text) {
    Promise<String> waiter;
    synchronized (this) {
      waiter = waiters.poll();
      if (waiter == null) {
        frames.add(text);
      }
    }
    if (waiter != null) {
      waiter.complete(text);
    }
  }

  /** The next text frame, in arrival order. */
  public Future<String> next() {
    // Tests call this from their own thread while frames arrive on the event loop: taking a frame
    // and queueing a waiter must be one step, or a frame landing between the two is never handed out.
    synchronized (this) {
      String queued = frames.poll();
      if (queued != null) {
        return Future.succeededFuture(queued);
      }
      if (gone) {
        return Future.failedFuture("socket closed");
      }
      Promise<String> waiter = Promise.promise();
      waiters.add(waiter);
      return waiter.future();
    }
  }

  public Future<JsonObject> nextJson() {
    return next().map(JsonObject::new);
  }

  /** The next frame, which must be of the given type. */
  public Future<JsonObject> expect(String type) {
    return nextJson().compose(frame -> type.equals(frame.getString("type"))
        ? Future.succeededFuture(frame)
        : Future.failedFuture(new AssertionError("expected " + type + " frame, got " + frame.encode())));
  }

  /** The next {@code n} frames, which must all be of the given type. */
  public Future<List<JsonObject>> expect(String type, int n) {
    List<JsonObject> out = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      chain = chain.compose(v -> expect(type).map(frame -> {
        out.add(frame);
        return null;
      }));
    }
    return chain.map(v -> out);
  }

  /** The next {@code n} text frames. */
  public Future<List<String>> texts(int n) {
    List<String> out = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      chain = chain.compose(v -> next().map(text -> {
        out.add(text);
        return null;
      }));
    }
    return chain.map(v -> out);
  }

  /** Frames received and not yet taken. */
  public synchronized int queued() {
    return frames.size();
  }

  public Future<Void> send(String text) {
    return socket.writeTextMessage(text);
  }

  public Future<Void> send(JsonObject frame) {
    return socket.writeTextMessage(frame.encode());
  }

  public Future<Void> sendMessage(String id, String to, String body) {
    return send(new JsonObject().put("type", "send").put("id", id).put("to", to).put("body", body));
  }

  public Future<Void> sendBinary(Buffer data) {
    return socket.writeBinaryMessage(data);
  }

  public WebSocket socket() {
    return socket;
  }

  /** Completes with the close code when the server (or this client) closes the connection. */
  public Future<Short> closed() {
    return closed.future();
  }

  public Future<Void> close() {
    return socket.close().eventually(client::close);
  }
}
