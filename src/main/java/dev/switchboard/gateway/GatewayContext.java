package dev.switchboard.gateway;

import dev.switchboard.auth.Identity;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.bus.Signal;
import dev.switchboard.config.GatewayConfig;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.JsonFrameParser;
import dev.switchboard.protocol.MessageFrameEncoder;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.bus.RoomRequest;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** What a {@link Session} needs from the gateway instance that owns it. */
interface GatewayContext {

  GatewayConfig settings();

  LimitsConfig limits();

  Ids ids();

  JsonFrameParser parser();

  /** Encodes message frames for the sessions of this instance (its event loop only). */
  MessageFrameEncoder messageFrames();

  /** Adds the session to its user's live stream on this node; completes once live messages reach it. */
  Future<Void> join(Session session);

  /** Checks a refreshed token; fails with {@code bad_state} when the gateway runs without tokens. */
  Future<Identity> verifyToken(String token);

  /** Has the router store and deliver a client's send; fails with the reason it was refused. */
  Future<SendOutcome> submitSend(SendCommand command);

  /** Has the router answer a room request of this session's user; fails with the reason it was refused. */
  Future<JsonObject> roomRequest(RoomRequest request);

  /** Hands a signal to the router, which passes it to the live sessions of its recipient (no reply). */
  void sendSignal(Signal signal);

  /** Whether this instance's event loop is behind: signals are then dropped before they cost anything. */
  boolean behind();

  /** One page of the session's inbox, from the inbox verticle. */
  Future<InboxPage> readPage(ReadRequest request);

  void send(String address, JsonObject body);

  /** Runs {@code action} on this instance's event loop after {@code delayMillis}; returns the timer's id. */
  long setTimer(long delayMillis, Runnable action);

  void cancelTimer(long timerId);

  /** Notes a message written to a session; the count reaches the metrics at {@link #reportDelivered}. */
  void countDelivered(boolean live);

  /** Ends a delivery batch or backlog page: its noted messages go to the metrics as one count. */
  void reportDelivered();

  /** This node's meters. */
  SwitchboardMetrics metrics();
}
