package dev.switchboard.bench;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A user on an MQTT broker: persistent session (clean-session off), subscribed at QoS 1 to its own
 * topic {@code u/<index>}, publishing at QoS 1 to the recipient's topic. PUBACK counts as accepted.
 */
final class MqttUser implements Conn {

  final int idx;
  private final Hub hub;
  private final MqttClient client;
  private final long[] sentPerPeer;
  private final long[] rejectedPerPeer;
  private final Map<Integer, Long> inflight = new HashMap<>();
  private boolean open;
  private boolean closing;
  private long nextSeq;
  String lastError;

  MqttUser(Hub hub, int idx, String runId) {
    this.hub = hub;
    this.idx = idx;
    this.sentPerPeer = new long[hub.peers];
    this.rejectedPerPeer = new long[hub.peers];
    MqttClientOptions options = new MqttClientOptions()
        .setClientId("bench-" + runId + "-u" + idx)
        .setCleanSession(false)
        .setKeepAliveInterval(60)
        .setAutoKeepAlive(true)
        .setMaxInflightQueue(65_000)
        .setAckTimeout(30);
    options.setConnectTimeout(10_000);
    options.setReconnectAttempts(0);
    this.client = MqttClient.create(hub.vertx, options);
  }

  Future<Void> connect(int port) {
    client.publishHandler(this::onPublish);
    client.publishCompletionHandler(this::onPuback);
    client.publishCompletionExpirationHandler(id -> {
      inflight.remove(id);
      lastError = "PUBACK timeout";
    });
    client.exceptionHandler(e -> lastError = String.valueOf(e.getMessage()));
    client.closeHandler(v -> {
      if (open && !closing) {
        hub.closedUnexpectedly++;
      }
      open = false;
    });
    return client.connect(port, "127.0.0.1")
        .compose(ack -> {
          open = true;
          hub.connected++;
          return client.subscribe("u/" + idx, MqttQoS.AT_LEAST_ONCE.value());
        })
        .map(subId -> {
          hub.synced++; // the SUBACK: from here on the broker queues for us
          return null;
        });
  }

  private void onPublish(MqttPublishMessage m) {
    hub.messagesTotal++;
    byte[] b = m.payload().getBytes();
    hub.tracker.onDelivered(idx, b, 0, b.length);
  }

  private void onPuback(Integer packetId) {
    hub.accepted++;
    Long intended = inflight.remove(packetId);
    if (intended != null) {
      hub.tracker.onAccepted(intended);
    }
  }

  @Override
  public boolean isOpen() {
    return open;
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
    Buffer payload = Buffer.buffer(hub.tracker.token.make(idx, seq, intended).getBytes(StandardCharsets.US_ASCII));
    sentPerPeer[peer]++;
    hub.sent++;
    client.publish("u/" + to, payload, MqttQoS.AT_LEAST_ONCE, false, false)
        .onSuccess(packetId -> inflight.put(packetId, intended))
        .onFailure(e -> {
          // not written (e.g. the in-flight window is full): the broker never saw it
          hub.rejected++;
          rejectedPerPeer[peer]++;
          lastError = String.valueOf(e.getMessage());
        });
  }

  @Override
  public void flushAck() {
    // PUBACKs for received messages are sent by the client automatically
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
  public Future<Void> close() {
    closing = true;
    if (!open) {
      return Future.succeededFuture();
    }
    return client.disconnect();
  }
}
