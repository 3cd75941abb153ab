package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** A user on a Switchboard {@code switchboard.v1} WebSocket. */
final class WsUser implements Conn {

  static final String SUBPROTOCOL = "switchboard.v1";

  private static final byte[] TYPE = Scan.key("type");
  private static final byte[] SEQ = Scan.key("seq");
  private static final byte[] TS = Scan.key("ts");
  private static final byte[] BODY = Scan.key("body");
  private static final byte[] ID = Scan.key("id");
  private static final byte[] CODE = Scan.key("code");
  private static final byte[] ROOM = Scan.key("room");
  private static final byte[] ROOM_SEQ = Scan.key("roomSeq");
  private static final byte[] MSG_ID = Scan.key("msgId");
  private static final byte[] BY = Scan.key("by");
  private static final byte[] UP_TO = Scan.key("upTo");
  private static final byte[] DELIVERED = "delivered".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] READ = "read".getBytes(StandardCharsets.US_ASCII);

  final int idx;
  final String name;
  private final Hub hub;
  private WebSocket ws;
  private boolean open;
  private boolean closing;
  boolean synced;
  long connectStarted;
  long connectedAt;
  long syncedAt;
  long syncedSeq = -1;
  long lastSeq;      // highest server seq received
  private long ackedSeq;
  private Buffer partial;
  String lastError;
  /** Called on the loop when the server side closes the socket (or it breaks), not when we close it. */
  Runnable onDropped;

  private final long[] sentPerPeer;
  private final long[] rejectedPerPeer;
  private long nextSeq;
  /** The user this one last sent to, and its own sends' answers: the per-shard figures of a sharded run. */
  int lastTo = -1;
  long acceptedOwn;
  long rejectedOwn;
  String rejectCode;
  /** With receipts: the newest room message this user got, and room messages since its last read. */
  private String newestRoom;
  private String newestRoomMsgId;
  private int roomSinceRead;

  WsUser(Hub hub, int idx, String name) {
    this.hub = hub;
    this.idx = idx;
    this.name = name;
    this.sentPerPeer = new long[hub.peers];
    this.rejectedPerPeer = new long[hub.peers];
  }

  /**
   * On the loop: connects every user as device {@code d}, user i through client i mod clients to port
   * i mod ports, at most {@code window} at a time. A failure counts in the hub and stays as the user's
   * last error; the future completes when every attempt has ended.
   */
  static Future<Void> connectAll(WsUser[] us, List<WebSocketClient> clients, long[] ports, int window, long timeoutMs) {
    return Loop.windowed(us.length, window, i -> us[i].connect(clients.get(i % clients.size()), (int) ports[i % ports.length],
        "d", timeoutMs).onFailure(e -> {
          us[i].hub.connectFailed++;
          us[i].lastError = e.getMessage();
        }));
  }

  /** Opens the socket; completes once the handshake is done (not yet synced). */
  Future<Void> connect(WebSocketClient client, int port, String device, long timeoutMs) {
    return connect(client, port, device, timeoutMs, -1);
  }

  /**
   * Opens the socket, resuming after {@code since} when it is >= 0 (as a client that reconnects
   * does, with the last seq it processed); completes once the handshake is done (not yet synced).
   */
  Future<Void> connect(WebSocketClient client, int port, String device, long timeoutMs, long since) {
    connectStarted = System.nanoTime();
    WebSocketConnectOptions options = new WebSocketConnectOptions()
        .setHost("127.0.0.1")
        .setPort(port)
        .setURI("/ws?user=" + name + "&device=" + device + (since >= 0 ? "&since=" + since : ""))
        .addSubProtocol(SUBPROTOCOL)
        .setTimeout(timeoutMs);
    return client.connect(options).map(socket -> {
      ws = socket;
      open = true;
      closing = false;
      synced = false;
      partial = null;
      connectedAt = System.nanoTime();
      hub.connected++;
      socket.frameHandler(this::onFrame);
      socket.exceptionHandler(e -> lastError = String.valueOf(e.getMessage()));
      socket.closeHandler(v -> {
        boolean unexpected = open && !closing;
        open = false;
        if (unexpected) {
          hub.closedUnexpectedly++;
          if (onDropped != null) {
            onDropped.run();
          }
        }
      });
      return null;
    });
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public long[] sentPerPeer() {
    return sentPerPeer;
  }

  @Override
  public long[] rejectedPerPeer() {
    return rejectedPerPeer;
  }

  @Override
  public long nextSeq() {
    return nextSeq++;
  }

  @Override
  public void send(int to, long seq, int peer, long intended) {
    if (!open) {
      hub.sendSkipped++;
      return;
    }
    StringBuilder sb = new StringBuilder(160);
    sb.append("{\"type\":\"send\",\"id\":\"").append(Long.toString(seq, 36)).append('-').append(Long.toString(intended, 36))
        .append("\",\"to\":\"u").append(to).append("\",\"body\":\"");
    hub.tracker.token.append(sb, idx, seq, intended);
    sb.append("\"}");
    ws.writeTextMessage(sb.toString());
    lastTo = to;
    sentPerPeer[peer]++;
    hub.sent++;
  }

  /** Sends message {@code seq} of this user to room {@code room}, as peer 0. */
  void sendRoom(String room, long seq, long intended) {
    if (!open) {
      hub.sendSkipped++;
      return;
    }
    StringBuilder sb = new StringBuilder(160);
    sb.append("{\"type\":\"send\",\"id\":\"").append(Long.toString(seq, 36)).append('-').append(Long.toString(intended, 36))
        .append("\",\"room\":\"").append(room).append("\",\"body\":\"");
    hub.tracker.token.append(sb, idx, seq, intended);
    sb.append(hub.onReceipt != null ? "\",\"receipt\":true}" : "\"}");
    ws.writeTextMessage(sb.toString());
    sentPerPeer[0]++;
    hub.sent++;
  }

  private void onFrame(WebSocketFrame frame) {
    if (frame.isText() || frame.isContinuation()) {
      Buffer data = frame.binaryData();
      if (!frame.isFinal()) {
        partial = partial == null ? data.copy() : partial.appendBuffer(data);
        return;
      }
      if (partial != null) {
        data = partial.appendBuffer(data);
        partial = null;
      }
      byte[] b = data.getBytes();
      onText(b, b.length);
    }
  }

  private void onText(byte[] b, int len) {
    switch (Scan.typeInitial(b, len, TYPE)) {
      case 'm' -> onMessage(b, len);
      case 'a' -> onAccepted(b, len);
      case 's' -> {
        synced = true;
        syncedAt = System.nanoTime();
        syncedSeq = Scan.number(b, len, SEQ, -1);
        if (syncedSeq > lastSeq) {
          lastSeq = syncedSeq; // the stored cursor was already there: nothing to ack
          ackedSeq = syncedSeq;
        }
        hub.synced++;
      }
      case 'e' -> onError(b, len);
      case 'g' -> hub.gapFrames++;
      case 'r' -> {
        if (Scan.stringIs(b, len, TYPE, READ)) {
          onReceipt(b, len, false);
        } else {
          onRoomEvent(b, len);
        }
      }
      case 'd' -> {
        if (Scan.stringIs(b, len, TYPE, DELIVERED)) {
          onReceipt(b, len, true);
        }
      }
      default -> {
        // pong and anything newer: ignored
      }
    }
  }

  private void onMessage(byte[] b, int len) {
    hub.messagesTotal++;
    advanceSeq(b, len);
    if (hub.onRoom != null) {
      String room = Scan.string(b, len, ROOM);
      long roomSeq = Scan.number(b, len, ROOM_SEQ, -1);
      hub.onRoom.delivered(idx, room, roomSeq);
      if (hub.onReceipt != null && room != null) {
        newestRoom = room;
        newestRoomMsgId = Scan.string(b, len, MSG_ID);
        roomSinceRead++;
        hub.onReceipt.copy(room, newestRoomMsgId, roomSeq);
      }
    }
    int s = Scan.stringStart(b, len, BODY);
    if (s >= 0) {
      int e = Scan.stringEnd(b, len, s);
      if (e > s) {
        int sender = hub.tracker.onDelivered(idx, b, s, e - s, Scan.number(b, len, TS, -1));
        if (hub.onDelivery != null && sender >= 0) {
          hub.onDelivery.delivered(idx, sender);
        }
      }
    }
    if (lastSeq - ackedSeq >= hub.ackEvery) {
      flushAck();
    }
  }

  /** The inbox seq of a stored frame (message or room event): gaps are counted, and it is acked. */
  private void advanceSeq(byte[] b, int len) {
    long seq = Scan.number(b, len, SEQ, -1);
    if (seq >= 0) {
      if (lastSeq > 0 && seq != lastSeq + 1) {
        hub.seqGaps++;
      }
      if (seq > lastSeq) {
        lastSeq = seq;
      }
    }
  }

  /** A room event (created, added, removed) takes an inbox seq like a message; a {@code rooms} answer has none. */
  private void onRoomEvent(byte[] b, int len) {
    if (Scan.number(b, len, SEQ, -1) < 0) {
      return;
    }
    advanceSeq(b, len);
    if (hub.onRoom != null) {
      hub.onRoom.event(idx, Scan.string(b, len, ROOM), Scan.number(b, len, ROOM_SEQ, -1));
    }
    if (lastSeq - ackedSeq >= hub.ackEvery) {
      flushAck();
    }
  }

  /** A delivered or read receipt: stored in this user's inbox, so it takes a seq and is acked like a message. */
  private void onReceipt(byte[] b, int len, boolean delivered) {
    advanceSeq(b, len);
    if (hub.onReceipt != null) {
      String room = Scan.string(b, len, ROOM);
      String by = Scan.string(b, len, BY);
      String upTo = Scan.string(b, len, UP_TO);
      if (delivered) {
        hub.onReceipt.delivered(idx, room, by, upTo);
      } else {
        hub.onReceipt.read(idx, room, by, upTo);
      }
    }
    if (lastSeq - ackedSeq >= hub.ackEvery) {
      flushAck();
    }
  }

  /** A protocol ping: activity for the server's idle timeout while a run sends this user nothing. */
  void ping() {
    if (open) {
      ws.writeTextMessage("{\"type\":\"ping\"}");
    }
  }

  @Override
  public void flushAck() {
    if (open && lastSeq > ackedSeq) {
      ackedSeq = lastSeq;
      ws.writeTextMessage("{\"type\":\"ack\",\"seq\":" + lastSeq + "}");
      hub.acksSent++;
      maybeRead();
    }
  }

  /** With receipts, after an ack: a room read up to the newest room message, once enough came since the last read. */
  private void maybeRead() {
    if (closing || hub.onReceipt == null || hub.readEvery <= 0 || roomSinceRead < hub.readEvery || newestRoomMsgId == null) {
      return;
    }
    roomSinceRead = 0;
    ws.writeTextMessage("{\"type\":\"read\",\"room\":\"" + newestRoom + "\",\"upTo\":\"" + newestRoomMsgId + "\"}");
    hub.readsSent++;
    hub.onReceipt.readSent(idx, newestRoomMsgId);
  }

  private void onAccepted(byte[] b, int len) {
    hub.accepted++;
    acceptedOwn++;
    String id = Scan.string(b, len, ID);
    long intended = intendedOf(id);
    if (intended >= 0) {
      hub.tracker.onAccepted(intended);
    }
    if (hub.onRoom != null) {
      String room = Scan.string(b, len, ROOM);
      if (room != null) {
        long roomSeq = Scan.number(b, len, ROOM_SEQ, -1);
        hub.onRoom.accepted(room, roomSeq);
        if (hub.onReceipt != null) {
          hub.onReceipt.accepted(idx, Scan.string(b, len, MSG_ID), roomSeq);
        }
      }
    }
  }

  private void onError(byte[] b, int len) {
    String id = Scan.string(b, len, ID);
    lastError = Scan.string(b, len, CODE);
    long seq = seqOf(id);
    if (seq < 0) {
      hub.otherErrors++;
      return;
    }
    hub.rejected++;
    rejectedOwn++;
    rejectCode = lastError;
    rejectedPerPeer[(int) (seq % hub.peers)]++;
  }

  private static long seqOf(String id) {
    int dash = id == null ? -1 : id.indexOf('-');
    try {
      return dash > 0 ? Long.parseLong(id.substring(0, dash), 36) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static long intendedOf(String id) {
    int dash = id == null ? -1 : id.indexOf('-');
    try {
      return dash > 0 ? Long.parseLong(id.substring(dash + 1), 36) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public Future<Void> close() {
    closing = true;
    if (!open) {
      return Future.succeededFuture();
    }
    flushAck();
    return ws.close();
  }
}
