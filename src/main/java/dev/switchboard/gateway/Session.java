package dev.switchboard.gateway;

import dev.switchboard.auth.Identity;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.RoomRequest;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.Signal;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.bus.SystemInboxes;
import dev.switchboard.protocol.ClientFrame;
import dev.switchboard.protocol.CloseCodes;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.ServerFrames;
import dev.switchboard.protocol.TextFrame;
import dev.switchboard.protocol.Utf8;
import dev.switchboard.vertx.VertxInternals;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One client connection: reads its frames, sends its messages through the router, and writes
 * what it receives in the connection's wire format. Ordering and resume rules are in
 * {@link DeliverySequencer}; this class connects them to the socket and the bus.
 */
final class Session implements DeliverySequencer.Output<Delivery> {

  private static final Logger LOG = LoggerFactory.getLogger(Session.class);

  /** The one cursor shared by a user's text-format (seed) connections, which cannot ack. */
  static final String TEXT_DEVICE = "~text";

  private static final Buffer EMPTY_PING = Buffer.buffer();

  private final GatewayContext gateway;
  private final ServerWebSocket socket;
  private final String user;
  private final boolean json;
  private final MessageAssembler assembler;
  private final TokenBucket sendRate;
  private int rateStrikes;
  private final SignalLimit signalLimit;
  private final DeliverySequencer<Delivery> sequencer;
  private final PendingReceipts pendingReceipts;
  private String device;
  private boolean joined;
  private boolean closed;
  private long lastHeardMillis;
  /** When the token's validity ends (exp + leeway), 0 when it does not. */
  private long endsAtMillis;
  /** The timer that ends the session at {@link #endsAtMillis} or after the idle timeout; -1 when none. */
  private long deadlineTimer = -1;
  private String lastRecipient;
  /** The socket's write queue filled up: live messages are left in the store until it drains. */
  private boolean behind;
  /**
   * The last mute or mute query of this session: each waits for the one before, since a mute reads
   * its setting and then moves it, and two under way at once would both read the older value.
   */
  private Future<Void> muteTurn = Future.succeededFuture();
  /** A page read the sequencer asked for while behind, made once the socket drains. */
  private boolean readWithheld;
  private Long withheldAfter;

  Session(GatewayContext gateway, ServerWebSocket socket, Identity identity, boolean json) {
    this.gateway = gateway;
    this.socket = socket;
    this.user = identity.user();
    this.endsAtMillis = identity.endsAtMillis();
    this.json = json;
    this.assembler = new MessageAssembler(gateway.settings().maxFrameBytes());
    this.sendRate = new TokenBucket(gateway.limits().messagesPerSecond(), gateway.limits().messageBurst(),
        System.currentTimeMillis());
    this.signalLimit = new SignalLimit(gateway.limits().signalsPerSecond(), System.currentTimeMillis());
    this.sequencer = new DeliverySequencer<>(this, Delivery::seq);
    this.pendingReceipts = new PendingReceipts(gateway.settings().maxUnackedReceipts());
    this.lastHeardMillis = System.currentTimeMillis();
    socket.setWriteQueueMaxSize(gateway.settings().maxWriteQueueBytes());
  }

  String user() {
    return user;
  }

  boolean json() {
    return json;
  }

  /** The close code the socket ended with, null when it had none (the connection dropped). */
  Short closeStatus() {
    return socket.closeStatusCode();
  }

  boolean joined() {
    return joined;
  }

  /**
   * Arms the one timer that ends the session: when its token's validity ends, or once it has been
   * silent for {@code gateway.idleTimeoutSeconds}. A frame only records when it was heard; a timer
   * that fires while the session is neither expired nor silent re-arms itself for the silence
   * since, so frames cost no timer work.
   */
  void armDeadline() {
    if (closed) {
      return;
    }
    long idleAt = lastHeardMillis + gateway.settings().idleTimeoutMillis();
    long at = endsAtMillis > 0 ? Math.min(endsAtMillis, idleAt) : idleAt;
    deadlineTimer = gateway.setTimer(Math.max(1, at - System.currentTimeMillis()), this::onDeadline);
  }

  private void onDeadline() {
    deadlineTimer = -1;
    if (closed) {
      return;
    }
    long now = System.currentTimeMillis();
    if (expired(now)) {
      close(CloseCodes.TOKEN_EXPIRED, "token expired; reconnect with a new one");
    } else if (now - lastHeardMillis >= gateway.settings().idleTimeoutMillis()) {
      LOG.debug("closing silent connection of user {}", user);
      close(CloseCodes.IDLE_TIMEOUT, "no frame or pong within the idle timeout");
    } else {
      armDeadline();
    }
  }

  private boolean expired(long now) {
    return endsAtMillis > 0 && now >= endsAtMillis;
  }

  private void cancelDeadline() {
    if (deadlineTimer != -1) {
      gateway.cancelTimer(deadlineTimer);
      deadlineTimer = -1;
    }
  }

  /** Joins the user's live stream on this node, then starts delivery after {@code since} (or the cursor). */
  void begin(String deviceId, Long since) {
    device = deviceId;
    joined = true;
    gateway.join(this).onSuccess(v -> sequencer.start(since))
        .onFailure(e -> close(CloseCodes.INTERNAL_ERROR, "could not subscribe"));
  }

  void onLive(Delivery delivery) {
    if (!closed && !behind) {
      sequencer.onLive(delivery);
    }
  }

  void onFrame(WebSocketFrame frame) {
    lastHeardMillis = System.currentTimeMillis();
    if (!frame.isText() && !frame.isBinary() && !frame.isContinuation()) {
      return;
    }
    try {
      String text = assembler.onFrame(frame.isBinary(), frame.isContinuation(), frame.isFinal(), frame.binaryData().getBytes());
      if (text != null) {
        if (json) {
          onJsonFrame(gateway.parser().parse(text));
        } else {
          onTextFrame(text);
        }
      }
    } catch (ProtocolException e) {
      sendError(e);
    }
  }

  private void onJsonFrame(ClientFrame frame) {
    if (frame instanceof ClientFrame.Send send) {
      send(send.id(), send.to(), send.body(), send.receipt());
    } else if (frame instanceof ClientFrame.RoomSend roomSend) {
      if (takeSend(roomSend.id())) {
        submit(roomSend.id(), SendCommand.toRoom(user, roomSend.room(), roomSend.body(), roomSend.id(), roomSend.receipt()));
      }
    } else if (frame instanceof ClientFrame.RoomCall call) {
      roomCall(call);
    } else if (frame instanceof ClientFrame.Ack ack) {
      acknowledge(ack.seq());
    } else if (frame instanceof ClientFrame.Ping) {
      write(ServerFrames.pong());
    } else if (frame instanceof ClientFrame.Signal signal) {
      signal(signal);
    } else if (frame instanceof ClientFrame.Read read) {
      if (read.room() != null) {
        markRoomRead(read);
      } else {
        markRead(read);
      }
    } else if (frame instanceof ClientFrame.Mute mute) {
      mute(mute);
    } else if (frame instanceof ClientFrame.MuteQuery query) {
      muteQuery(query);
    } else if (frame instanceof ClientFrame.Token token) {
      refreshToken(token.token());
    } else if (frame instanceof ClientFrame.Hello hello) {
      if (device != null) {
        throw new ProtocolException(ErrorCode.BAD_STATE, "hello was already given");
      }
      begin(hello.device(), hello.since());
    }
  }

  private void onTextFrame(String text) {
    TextFrame.Parsed parsed = TextFrame.parse(text, lastRecipient);
    gateway.ids().requireValid("recipient", parsed.to());
    if (Utf8.length(parsed.content()) > gateway.limits().maxBodyBytes()) {
      throw new ProtocolException(ErrorCode.TOO_LARGE, "message is larger than " + gateway.limits().maxBodyBytes() + " bytes");
    }
    lastRecipient = parsed.to();
    send(null, parsed.to(), parsed.content(), false);
  }

  private void send(String id, String to, String body, boolean receipt) {
    if (takeSend(id)) {
      submit(id, new SendCommand(user, List.of(to), body, id, receipt));
    }
  }

  /**
   * Stores a read receipt in the peer's inbox like a message, under the reader's receipt mark, so
   * that it reaches every device of the peer, offline ones later, in order. Its idempotency key is
   * the message read: a second device marking the same message stores nothing new.
   */
  private void markRead(ClientFrame.Read read) {
    if (!takeSend(null)) {
      return;
    }
    gateway.submitSend(new SendCommand(Senders.receipt(user), List.of(read.peer()), read.upTo(), read.upTo()))
        .onSuccess(outcome -> {
          RecipientResult result = outcome.results().get(0);
          if (!result.isStored()) {
            sendError(new ProtocolException(result.error(), "read receipt not stored: " + result.error().meaning()));
          }
        })
        .onFailure(e -> sendError(BusFailures.asProtocolException(e)));
  }

  /**
   * Stores a read receipt about a room's messages in the inbox of every other member, as
   * {@link #markRead} does for one peer. It is sent to the room, so the store finds the members
   * inside its commit, as for a room message: the members of the room when it is stored, never one
   * removed before. The store refuses a non-member and a room above {@code limits.roomReceiptMembers}
   * members, so that one read never costs more copies than that. A second device reading the same
   * message stores nothing new.
   */
  private void markRoomRead(ClientFrame.Read read) {
    if (!takeSend(null)) {
      return;
    }
    gateway.submitSend(SendCommand.toRoom(Senders.receipt(user, read.room()), read.room(), read.upTo(), read.upTo()))
        .onSuccess(outcome -> {
          RecipientResult result = outcome.results().get(0);
          if (!result.isStored()) {
            String why = result.error() == ErrorCode.ROOM_TOO_BIG
                ? "room " + read.room() + " has more than " + gateway.limits().roomReceiptMembers()
                    + " members (limits.roomReceiptMembers): it takes no read receipt"
                : "read receipt not stored: " + result.error().meaning();
            sendError(new ProtocolException(result.error(), why));
          }
        })
        .onFailure(e -> sendError(BusFailures.asProtocolException(e)));
  }

  /**
   * Sets a mute for offline notifications: a counter kept as a cursor of the user's mutes inbox
   * (see {@link SystemInboxes#mutes}), moved to the next value that says the wanted state. Answered
   * once handed to the inbox, which stores it with its next write, as it stores acks.
   */
  private void mute(ClientFrame.Mute mute) {
    if (!takeSend(mute.id())) {
      return;
    }
    String mutes = SystemInboxes.mutes(user);
    String device = muteDevice(mute.peer(), mute.room());
    inMuteTurn(() -> gateway.readPage(new ReadRequest(mutes, device, null, 0))
        .onSuccess(page -> {
          long next = SystemInboxes.toggled(page.after(), mute.muted());
          if (next != page.after()) {
            gateway.send(Addresses.INBOX_CURSOR, new CursorUpdate(mutes, device, next).toJson());
          }
          write(ServerFrames.muted(mute.id(), mute.peer(), mute.room(), mute.muted()));
        })
        .onFailure(e -> sendError(withId(BusFailures.asProtocolException(e), mute.id()))));
  }

  /**
   * Answers whether the user's own setting for one peer, room or everyone is muted, so that a page
   * can show the stored state on any device; it counts against the send rate like a mute.
   */
  private void muteQuery(ClientFrame.MuteQuery query) {
    if (!takeSend(query.id())) {
      return;
    }
    inMuteTurn(() -> gateway.readPage(new ReadRequest(SystemInboxes.mutes(user), muteDevice(query.peer(), query.room()), null, 0))
        .onSuccess(page -> write(ServerFrames.muted(query.id(), query.peer(), query.room(), SystemInboxes.muted(page.after()))))
        .onFailure(e -> sendError(withId(BusFailures.asProtocolException(e), query.id()))));
  }

  /** Runs {@code step} once the session's previous mute or query has finished, failed or not. */
  private void inMuteTurn(Supplier<Future<?>> step) {
    muteTurn = muteTurn.transform(done -> step.get().<Void>mapEmpty().recover(e -> Future.succeededFuture()));
  }

  /** The device of the user's mutes inbox that keeps the setting for this peer, room or everyone. */
  private static String muteDevice(String peer, String room) {
    return room != null ? SystemInboxes.roomMute(room) : peer == null ? SystemInboxes.MUTE_ALL : peer;
  }

  /**
   * A room request, made as this session's user; it counts against the send rate like a send.
   * Answered with its id: {@code done}, {@code members} or {@code rooms}, or an error frame.
   */
  private void roomCall(ClientFrame.RoomCall call) {
    if (!takeSend(call.id())) {
      return;
    }
    RoomRequest.Op op = switch (call.op()) {
      case CREATE -> RoomRequest.Op.CREATE;
      case ADD -> RoomRequest.Op.ADD;
      case REMOVE -> RoomRequest.Op.REMOVE;
      case MEMBERS -> RoomRequest.Op.MEMBERS;
      case ROOMS -> RoomRequest.Op.ROOMS;
    };
    String member = call.op() == ClientFrame.RoomOp.ROOMS ? user : call.user();
    gateway.roomRequest(new RoomRequest(op, call.room(), member, user, false))
        .onSuccess(reply -> write(switch (op) {
          case MEMBERS -> {
            RoomInfo info = RoomInfo.fromJson(reply);
            yield ServerFrames.members(call.id(), info.room(), info.owner(), info.roomSeq(), info.members());
          }
          case ROOMS -> ServerFrames.rooms(call.id(), reply.getJsonArray("rooms").stream().map(String.class::cast).toList());
          default -> ServerFrames.roomDone(call.id(), call.room(), reply.getLong("roomSeq"));
        }))
        .onFailure(e -> sendError(withId(BusFailures.asProtocolException(e), call.id())));
  }

  /**
   * Hands a signal to the router unless it must be dropped: over this session's signal rate (told
   * once until a signal passes again), or while this gateway's loop is behind (silently: signals
   * are the first thing to give up under load).
   */
  private void signal(ClientFrame.Signal signal) {
    long now = System.currentTimeMillis();
    if (expired(now)) {
      return; // the deadline timer, perhaps late on a busy loop, closes the session
    }
    SignalLimit.Verdict verdict = signalLimit.admit(now);
    if (verdict != SignalLimit.Verdict.PASS) {
      gateway.metrics().signal("rate_limited");
      if (verdict == SignalLimit.Verdict.DROP_AND_TELL) {
        throw new ProtocolException(ErrorCode.RATE_LIMITED, "at most " + gateway.limits().signalsPerSecond()
            + " signals per second; signals over it are dropped without a further error until one passes");
      }
      return;
    }
    if (gateway.behind()) {
      gateway.metrics().signal("overloaded");
      return;
    }
    gateway.sendSignal(new Signal(user, signal.to(), signal.kind(), signal.data()));
  }

  /** A signal for this user: written at once, or dropped when this loop is behind or the socket backed up. */
  void onSignal(String frame) {
    if (!json || closed || socket.isClosed()) {
      return;
    }
    if (gateway.behind()) {
      gateway.metrics().signal("overloaded");
      return;
    }
    if (behind || socket.writeQueueFull()) {
      gateway.metrics().signal("slow_reader");
      return;
    }
    gateway.metrics().signal("delivered");
    socket.writeTextMessage(frame);
  }

  /** Takes a token from the send rate; false (after refusing or closing) when the send must not go. */
  private boolean takeSend(String id) {
    long now = System.currentTimeMillis();
    if (expired(now)) {
      // The deadline timer may run late on a busy loop; nothing is sent on an expired token meanwhile.
      sendError(new ProtocolException(ErrorCode.INVALID_TOKEN, "the session's token expired", id));
      close(CloseCodes.TOKEN_EXPIRED, "token expired; reconnect with a new one");
      return false;
    }
    if (!sendRate.tryTake(now)) {
      gateway.metrics().refused(ErrorCode.RATE_LIMITED);
      if (++rateStrikes >= gateway.limits().rateLimitStrikes()) {
        close(CloseCodes.RATE_LIMITED, "kept sending over the rate limit");
        return false;
      }
      throw new ProtocolException(ErrorCode.RATE_LIMITED,
          "at most " + gateway.limits().messagesPerSecond() + " messages per second", id);
    }
    rateStrikes = 0;
    return true;
  }

  private void submit(String id, SendCommand command) {
    gateway.submitSend(command)
        .onSuccess(outcome -> onSent(id, outcome))
        .onFailure(e -> {
          ProtocolException refusal = BusFailures.asProtocolException(e);
          gateway.metrics().refused(refusal.code());
          sendError(withId(refusal, id));
        });
  }

  private void onSent(String id, SendOutcome outcome) {
    RecipientResult result = outcome.results().get(0);
    if (!result.isStored()) {
      gateway.metrics().refused(result.error());
      sendError(new ProtocolException(result.error(), result.error().meaning(), id));
      return;
    }
    LOG.atDebug().addKeyValue("user", user).addKeyValue("msgId", result.msgId())
        .log("message to {} stored{}", result.to(), outcome.duplicate() ? " (duplicate)" : "");
    if (json && outcome.room() != null) {
      write(ServerFrames.acceptedInRoom(id, result.msgId(), result.ts(), Boolean.TRUE.equals(result.online()),
          outcome.duplicate(), outcome.room(), outcome.roomSeq()));
    } else if (json) {
      write(ServerFrames.accepted(id, result.msgId(), result.ts(), Boolean.TRUE.equals(result.online()), outcome.duplicate()));
    }
  }

  private void refreshToken(String token) {
    gateway.verifyToken(token)
        .compose(identity -> identity.user().equals(user)
            ? Future.succeededFuture(identity)
            : Future.failedFuture(new ProtocolException(ErrorCode.INVALID_TOKEN, "the token is for another user")))
        .onSuccess(identity -> {
          if (closed) {
            return;
          }
          endsAtMillis = identity.endsAtMillis();
          cancelDeadline();
          armDeadline();
          write(ServerFrames.authenticated(user, identity.expiresAtMillis()));
        })
        .onFailure(e -> sendError(BusFailures.asProtocolException(e)));
  }

  private void acknowledge(long seq) {
    if (device == null) {
      throw new ProtocolException(ErrorCode.BAD_STATE, "send hello before ack");
    }
    if (seq > sequencer.delivered()) {
      throw new ProtocolException(ErrorCode.INVALID_ACK, "seq " + seq + " has not been delivered to this session");
    }
    gateway.send(Addresses.INBOX_CURSOR, new CursorUpdate(user, device, seq).toJson());
    for (PendingReceipts.Pending acked : pendingReceipts.acked(seq)) {
      storeDelivered(acked);
    }
  }

  /**
   * Stores a delivered receipt in the sender's inbox like a message, so every device of the
   * sender gets it, offline ones later, in order. Its idempotency key is the message's msgId: a
   * second device acking the same message stores nothing new; a room message's sender who is no longer
   * a member of the room gets none. Not counted against the send rate:
   * the sender's own rate already bounded the messages that ask for one.
   */
  private void storeDelivered(PendingReceipts.Pending acked) {
    // A room's receipt names the room, so that the store gives it only to a sender still a member when it commits.
    gateway.submitSend(new SendCommand(Senders.delivered(user, acked.room()), List.of(acked.from()), acked.msgId(),
            acked.msgId(), false, acked.room()))
        .onSuccess(outcome -> {
          RecipientResult result = outcome.results().get(0);
          if (!result.isStored()) {
            LOG.debug("delivered receipt of {} for {} not stored: {}", user, acked.msgId(), result.error().wireName());
          }
        })
        .onFailure(e -> LOG.debug("delivered receipt of {} for {} not stored: {}", user, acked.msgId(), e.getMessage()));
  }

  @Override
  public void deliver(Delivery delivery) {
    // Vert.x counts the socket closed once the client's close frame is read, before our close
    // handler runs; from then on writeQueueFull() throws. The message stays in the store.
    if (closed || socket.isClosed()) {
      return;
    }
    if (!json && delivery.jsonOnly()) {
      return; // text clients have no receipt or room frame; their cursor passes them with the next message
    }
    gateway.countDelivered(delivery.live);
    if (json) {
      if (delivery.asksReceipt() && !ownRoomCopy(delivery.message)) {
        pendingReceipts.delivered(delivery.seq(), delivery.message.msgId(), delivery.message.from(), delivery.message.room());
      }
      byte[] frame = delivery.jsonFrame(gateway.messageFrames());
      if (frame.length <= gateway.settings().maxFrameBytes()) {
        // The bytes as they are: writeTextMessage would take a string and encode it again.
        socket.writeFrame(VertxInternals.textFrame(frame));
      } else {
        socket.writeTextMessage(new String(frame, StandardCharsets.UTF_8)); // Vert.x splits it into frames
      }
    } else {
      long seq = delivery.seq();
      socket.writeTextMessage(delivery.textFrame(gateway.settings().textPrefixSender(), gateway.settings().textEscapeHtml()))
          .onSuccess(v -> gateway.send(Addresses.INBOX_CURSOR, new CursorUpdate(user, TEXT_DEVICE, seq).toJson()));
    }
    if (!behind && socket.writeQueueFull()) {
      // A slow reader must not grow our memory: stop queueing live messages (they are in the store)
      // and catch up from the store once the socket has drained.
      behind = true;
      LOG.debug("user {} device {} is reading slowly; pausing live delivery", user, device);
      socket.drainHandler(v -> {
        behind = false;
        if (readWithheld) {
          readWithheld = false;
          read(withheldAfter);
        } else {
          sequencer.resync();
        }
      });
    }
  }

  /** The sender's own copy of its room message: receipted by nobody, since the sender has it already. */
  private boolean ownRoomCopy(StoredMessage message) {
    return message.room() != null && message.from().equals(user);
  }

  @Override
  public void gap(long fromSeq, long toSeq) {
    LOG.debug("user {} device {} missed seq {}..{} (retention)", user, device, fromSeq, toSeq);
    if (json) {
      write(ServerFrames.gap(fromSeq, toSeq));
    } else if (!closed) {
      // Told once: the text cursor passes the gap as it passes a written message.
      socket.writeTextMessage(TextFrame.gap(fromSeq, toSeq, gateway.settings().textEscapeHtml()))
          .onSuccess(v -> gateway.send(Addresses.INBOX_CURSOR, new CursorUpdate(user, TEXT_DEVICE, toSeq).toJson()));
    }
  }

  @Override
  public void read(Long afterSeq) {
    if (behind) {
      readWithheld = true;
      withheldAfter = afterSeq;
      return;
    }
    int pageSize = gateway.settings().backlogPageSize();
    gateway.readPage(new ReadRequest(user, device, afterSeq, pageSize))
        .onSuccess(page -> {
          if (!closed) {
            List<Delivery> deliveries = new ArrayList<>(page.messages().size());
            for (StoredMessage m : page.messages()) {
              deliveries.add(new Delivery(m, false));
            }
            sequencer.onPage(page.after(), page.head(), deliveries, pageSize);
            gateway.reportDelivered();
          }
        })
        .onFailure(e -> {
          LOG.warn("backlog read for user {} failed: {}", user, e.getMessage());
          close(CloseCodes.INTERNAL_ERROR, "inbox unavailable, reconnect");
        });
  }

  @Override
  public void synced(long seq) {
    if (json) {
      write(ServerFrames.synced(seq));
    }
  }

  void ping() {
    if (!closed) {
      socket.writePing(EMPTY_PING);
    }
  }

  void sendError(ProtocolException e) {
    LOG.debug("user {}: {} {}", user, e.code().wireName(), e.getMessage());
    write(json ? ServerFrames.error(e.frameId(), e.code(), e.getMessage()) : TextFrame.error(e.code(), e.getMessage(), gateway.settings().textEscapeHtml()));
  }

  private static ProtocolException withId(ProtocolException e, String id) {
    return e.frameId() != null || id == null ? e : new ProtocolException(e.code(), e.getMessage(), id);
  }

  private void write(String frame) {
    if (!closed) {
      socket.writeTextMessage(frame);
    }
  }

  void close(short code, String reason) {
    if (!closed) {
      closed = true;
      cancelDeadline();
      socket.close(code, reason);
    }
  }

  /** Called once the socket is closed, whoever closed it. */
  void markClosed() {
    closed = true;
    cancelDeadline();
  }
}
