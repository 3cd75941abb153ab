package dev.switchboard.routing;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.AppendBatch;
import dev.switchboard.bus.AppendBatchResult;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.DeliveryBatch;
import dev.switchboard.bus.GatewayLoad;
import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.Presence;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.SendBatch;
import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.config.PushApiConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns sends and pushes into stored copies and live deliveries: validates them, names each copy
 * (msgId), has the inbox commit them, then hands the committed copies, one batch per node, to the
 * nodes where their recipients have sessions. Nothing is delivered before it is durable, so a retry never finds a
 * message that was shown but lost.
 */
public final class RouterVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RouterVerticle.class);
  /** For the batch records, which travel with their own codec ({@link dev.switchboard.bus.RecordCodec}). */
  private static final DeliveryOptions LOCAL_RECORD = new DeliveryOptions().setLocalOnly(true);

  private final MessageIds messageIds = new MessageIds();
  private SendValidator validator;
  private Ids ids;
  private UserDirectory directory;
  private String defaultSender;
  private DeliveryOptions inboxRequest;
  /** Where every send and push goes: it hands them to {@link #storeAndDeliver} with whatever else waits. */
  private InboxBatcher inboxBatcher;
  /** Gateway instances of this node whose event loop is behind: while any is, new messages are refused. */
  private final Map<String, Long> behindGateways = new HashMap<>();

  @Override
  public Future<?> start() {
    LimitsConfig limits = LimitsConfig.fromJson(config());
    validator = new SendValidator(limits);
    ids = new Ids(limits.maxIdLength());
    defaultSender = PushApiConfig.fromJson(config()).defaultSender();
    directory = UserDirectory.create(vertx);
    inboxRequest = new DeliveryOptions().setSendTimeout(limits.requestTimeoutMillis()).setLocalOnly(true);
    inboxBatcher = new InboxBatcher(InboxConfig.fromJson(config()).batchMaxMessages(), limits.maxQueuedCopies(),
        this::storeAndDeliver);
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(Addresses.PUSH, m -> onPush(m, false)).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.ROUTER_PUSH, m -> onPush(m, true)).completion(),
        vertx.eventBus().<SendBatch>localConsumer(Addresses.ROUTER_SEND, this::onClientSends).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.PRESENCE, this::onPresence).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.ROUTER_LOAD, this::onGatewayLoad).completion(),
        vertx.eventBus().<DeliveryBatch>consumer(Addresses.node(directory.localNode()), this::onRelay).completion());
  }

  private void onGatewayLoad(Message<JsonObject> message) {
    GatewayLoad load = GatewayLoad.fromJson(message.body());
    if (load.behind()) {
      behindGateways.put(load.instance(), load.lagMillis());
    } else {
      behindGateways.remove(load.instance());
    }
  }

  /**
   * Where every valid send and push goes: to the inbox through {@link #inboxBatcher}, unless a
   * gateway of this node is behind, when it is refused with {@code overloaded} (accepted, it would
   * only queue in memory behind deliveries that gateway cannot write yet).
   */
  private Future<List<SendBatchResult.Entry>> store(List<SendCommand> commands) {
    if (behindGateways.isEmpty()) {
      return inboxBatcher.submit(commands);
    }
    long lag = behindGateways.values().stream().mapToLong(Long::longValue).max().orElse(0);
    return Future.failedFuture(new ProtocolException(ErrorCode.OVERLOADED, "this node is behind on deliveries (a "
        + "gateway event loop ran " + lag + " ms late); nothing was stored: retry in a moment with the same id"));
  }

  /** A push; answered as JSON to publishers, as the record itself to this node's push API. */
  private void onPush(Message<JsonObject> message, boolean replyRecord) {
    SendCommand command;
    try {
      command = validator.parse(message.body(), defaultSender);
    } catch (RuntimeException e) {
      BusFailures.fail(message, e);
      return;
    }
    store(List.of(command)).onComplete(done -> {
      SendBatchResult.Entry entry = done.succeeded() ? done.result().get(0) : null;
      if (entry == null || entry.failure() != null) {
        BusFailures.fail(message, entry == null ? done.cause() : entry.failure());
      } else {
        message.reply(replyRecord ? entry.outcome() : entry.outcome().toJson());
      }
    });
  }

  /** A gateway's sends of one event-loop turn: the valid ones go to the inbox together. */
  private void onClientSends(Message<SendBatch> message) {
    List<SendCommand> sends = message.body().sends();
    SendBatchResult.Entry[] entries = new SendBatchResult.Entry[sends.size()];
    List<SendCommand> valid = new ArrayList<>(sends.size());
    List<Integer> validAt = new ArrayList<>(sends.size());
    for (int i = 0; i < sends.size(); i++) {
      try {
        valid.add(validator.validate(sends.get(i)));
        validAt.add(i);
      } catch (RuntimeException e) {
        entries[i] = SendBatchResult.Entry.failed(BusFailures.asProtocolException(e));
      }
    }
    Future<List<SendBatchResult.Entry>> routed = valid.isEmpty()
        ? Future.succeededFuture(List.of())
        : store(valid);
    routed.onComplete(done -> {
      for (int k = 0; k < validAt.size(); k++) {
        entries[validAt.get(k)] = done.succeeded()
            ? done.result().get(k)
            : SendBatchResult.Entry.failed(BusFailures.asProtocolException(done.cause()));
      }
      message.reply(new SendBatchResult(List.of(entries)), LOCAL_RECORD);
    });
  }

  private void onPresence(Message<JsonObject> message) {
    Future.succeededFuture(message.body().getString("user"))
        .map(user -> ids.requireValid("user", user))
        .compose(user -> directory.sessionsByNode(user).map(byNode ->
            new Presence(user, byNode.values().stream().mapToInt(Integer::intValue).sum())))
        .onSuccess(presence -> message.reply(presence.toJson()))
        .onFailure(e -> BusFailures.fail(message, e));
  }

  /** Messages committed by another node's router for users with sessions here. */
  private void onRelay(Message<DeliveryBatch> message) {
    vertx.eventBus().publish(Addresses.GATEWAY_DELIVER, message.body(), LOCAL_RECORD);
  }

  /**
   * Names each copy (msgId), has the inbox commit all the commands in one request, then delivers
   * the new copies. One entry per command, in order; the future fails only when the inbox does.
   */
  private Future<List<SendBatchResult.Entry>> storeAndDeliver(List<SendCommand> commands) {
    long now = System.currentTimeMillis();
    List<AppendRequest> appends = new ArrayList<>(commands.size());
    for (SendCommand command : commands) {
      List<AppendRequest.Recipient> recipients = new ArrayList<>(command.to().size());
      for (String to : command.to()) {
        recipients.add(new AppendRequest.Recipient(to, messageIds.next()));
      }
      appends.add(new AppendRequest(command.from(), command.body(), now, command.idempotencyKey(), recipients));
    }
    return vertx.eventBus().<AppendBatchResult>request(Addresses.INBOX_APPEND, new AppendBatch(appends), inboxRequest)
        .compose(reply -> deliver(commands, reply.body().results()));
  }

  /**
   * Finds the nodes with sessions of each new copy's recipient, sends each node one batch of its
   * copies in commit order, and notes who was online.
   */
  private Future<List<SendBatchResult.Entry>> deliver(List<SendCommand> commands, List<AppendResult> stored) {
    List<String> recipients = new ArrayList<>();
    for (AppendResult appended : stored) {
      for (RecipientResult result : appended.results()) {
        if (result.isStored()) {
          recipients.add(result.to());
        }
      }
    }
    return lookup(recipients).map(online -> {
      Map<String, List<StoredMessage>> byNode = new LinkedHashMap<>();
      List<SendBatchResult.Entry> entries = new ArrayList<>(commands.size());
      for (int i = 0; i < commands.size(); i++) {
        SendCommand command = commands.get(i);
        AppendResult appended = stored.get(i);
        List<RecipientResult> results = new ArrayList<>(appended.results().size());
        for (RecipientResult result : appended.results()) {
          if (!result.isStored()) {
            results.add(result);
            continue;
          }
          Map<String, Integer> nodes = online.getOrDefault(result.to(), Map.of());
          if (!appended.duplicate()) {
            StoredMessage copy = new StoredMessage(result.msgId(), result.seq(), command.from(), result.to(),
                command.body(), result.ts());
            for (String node : nodes.keySet()) {
              byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(copy);
            }
          }
          results.add(result.withOnline(!nodes.isEmpty()));
        }
        entries.add(SendBatchResult.Entry.of(new SendOutcome(appended.duplicate(), results)));
      }
      byNode.forEach((node, copies) -> {
        DeliveryBatch batch = new DeliveryBatch(copies);
        if (node.equals(directory.localNode())) {
          vertx.eventBus().publish(Addresses.GATEWAY_DELIVER, batch, LOCAL_RECORD);
        } else {
          vertx.eventBus().send(Addresses.node(node), batch);
        }
      });
      return entries;
    });
  }

  /** The nodes with sessions of each user that has any; none when the directory cannot say. */
  private Future<Map<String, Map<String, Integer>>> lookup(List<String> users) {
    if (users.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return directory.sessionsByNode(users).recover(e -> {
      // Stored is what counts: the recipients will get it from the inbox on their next read.
      LOG.warn("user directory lookup for {} users failed: {}", users.size(), e.getMessage());
      return Future.succeededFuture(Map.of());
    });
  }
}
