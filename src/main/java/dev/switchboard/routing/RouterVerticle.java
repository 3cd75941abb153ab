package dev.switchboard.routing;

import dev.switchboard.auth.ApiKeys;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.NodeKey;
import dev.switchboard.bus.AppendBatch;
import dev.switchboard.bus.AppendBatchResult;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.DeliveryBatch;
import dev.switchboard.bus.DeliveryReceipts;
import dev.switchboard.bus.GatewayLoad;
import dev.switchboard.bus.CursorRead;
import dev.switchboard.bus.CursorReadResult;
import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.Presence;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomChangeResult;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.RoomRequest;
import dev.switchboard.bus.SendBatch;
import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.Signal;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.AuthConfig;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.metrics.SwitchboardMetrics;
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
  /** Null in insecure mode, where publishers present no key (as HTTP callers present none). */
  private ApiKeys apiKeys;
  /** How relays to other nodes go: with {@code cluster.nodeKey}, when one is set. */
  private DeliveryOptions relayOptions;
  /** {@code cluster.nodeKey}, required on relays in jwt mode. */
  private NodeKey nodeKey;
  private DeliveryOptions inboxRequest;
  /** Where every send and push goes: it hands them to {@link #storeAndDeliver} with whatever else waits. */
  private InboxBatcher inboxBatcher;
  /** Gateway instances of this node whose event loop is behind: while any is, new messages are refused. */
  private final Map<String, Long> behindGateways = new HashMap<>();
  private SwitchboardMetrics metrics;
  /** Null when {@code webhook.url} is empty: then sends cost no presence lookup before their commit. */
  private OfflineNotifier notifier;
  /** How far webhook wake-ups reach: the whole cluster with a shared store, this node with an embedded one. */
  private DeliveryOptions webhookReach;
  private final SwitchboardConfig settings;

  /** A router with the node's configuration, parsed once by the caller. */
  public RouterVerticle(SwitchboardConfig settings) {
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    LimitsConfig limits = settings.limits();
    validator = new SendValidator(limits);
    ids = new Ids(limits.maxIdLength());
    defaultSender = settings.push().defaultSender();
    AuthConfig auth = settings.auth();
    apiKeys = auth.insecure() ? null : new ApiKeys(auth.apiKeys());
    nodeKey = new NodeKey(settings.cluster().nodeKey(), !auth.insecure());
    relayOptions = nodeKey.options();
    directory = UserDirectory.create(vertx);
    inboxRequest = new DeliveryOptions().setSendTimeout(limits.requestTimeoutMillis()).setLocalOnly(true);
    inboxBatcher = new InboxBatcher(settings.inbox().appendsInFlight(), settings.inbox().batchMaxMessages(),
        limits.maxQueuedCopies(), limits.maxQueueMillis(), System::nanoTime, this::storeAndDeliver);
    metrics = SwitchboardMetrics.of(vertx);
    metrics.watchRouterQueue(inboxBatcher::waitingCopies);
    List<Future<?>> consumers = new ArrayList<>();
    if (settings.webhook().enabled()) {
      notifier = new OfflineNotifier(settings.webhook().maxQueued(), messageIds::next, this::muteCounters);
      webhookReach = new DeliveryOptions().setLocalOnly(settings.inbox().embedded());
      metrics.watchWebhookQueue(notifier::queued);
      consumers.add(settings.inbox().embedded()
          ? vertx.eventBus().<JsonObject>localConsumer(Addresses.WEBHOOK_BACKLOG, this::onWebhookBacklog).completion()
          : vertx.eventBus().<JsonObject>consumer(Addresses.WEBHOOK_BACKLOG, this::onWebhookBacklog).completion());
    }
    consumers.addAll(List.of(
        vertx.eventBus().<JsonObject>consumer(Addresses.PUSH, this::onBusPush).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.ROUTER_PUSH, this::onApiPush).completion(),
        vertx.eventBus().<SendBatch>localConsumer(Addresses.ROUTER_SEND, this::onClientSends).completion(),
        vertx.eventBus().<Signal>localConsumer(Addresses.ROUTER_SIGNAL, this::onSignal).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.PRESENCE, this::onPresence).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.ROUTER_ROOM, this::onRoomRequest).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.ROOMS, this::onBusRoomRequest).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.ROUTER_LOAD, this::onGatewayLoad).completion(),
        vertx.eventBus().<DeliveryBatch>consumer(Addresses.node(directory.localNode()), this::onRelay).completion()));
    return Future.all(consumers);
  }

  private void onWebhookBacklog(Message<JsonObject> message) {
    notifier.reported(message.body().getLong("queued", 0L));
  }

  /**
   * Mute counters (see {@link dev.switchboard.bus.SystemInboxes#mutes}): the cursors the inbox keeps
   * for them, all in one request; a failed request is logged here, and its caller counts it as no mute.
   */
  private Future<List<Long>> muteCounters(List<CursorRead.Device> devices) {
    return vertx.eventBus().<CursorReadResult>request(Addresses.INBOX_CURSORS, new CursorRead(devices), inboxRequest)
        .map(reply -> reply.body().seqs())
        .onFailure(e -> LOG.warn("{} mute settings not read, counted as not muted: {}",
            devices.size(), e.getMessage()));
  }

  private void onGatewayLoad(Message<JsonObject> message) {
    GatewayLoad load = GatewayLoad.fromJson(message.body());
    if (load.behind()) {
      behindGateways.put(load.instance(), load.lagMillis());
    } else {
      behindGateways.remove(load.instance());
    }
    metrics.gatewaysBehind(behindGateways.size());
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

  /**
   * A push from a verticle or cluster member. Outside insecure mode the publisher proves who it is
   * with an API key in the {@link Addresses#API_KEY_HEADER} header, under the HTTP API's rules:
   * any member that reaches the event bus can send here, so the body's {@code from} alone proves
   * nothing. Answered as JSON; a push refused for every recipient fails with the refusal's code, as
   * the HTTP API answers it with the refusal's status.
   */
  private void onBusPush(Message<JsonObject> message) {
    SendCommand command;
    try {
      Object from = message.body().getValue("from", defaultSender);
      String principal = "";
      if (apiKeys != null) {
        AuthConfig.ApiKey key = apiKeys.matchKey(message.headers().get(Addresses.API_KEY_HEADER));
        if (key == null) {
          throw new ProtocolException(ErrorCode.UNAUTHORIZED, "switchboard.push needs a valid API key in the '"
              + Addresses.API_KEY_HEADER + "' header of its delivery options (auth.mode is jwt)");
        }
        from = ApiKeys.sender(key, message.body().getValue("from"));
        principal = key.name();
      }
      command = asPush(validator.parse(message.body(), from), principal);
    } catch (RuntimeException e) {
      metrics.pushRefused(BusFailures.asProtocolException(e).code());
      BusFailures.fail(message, e);
      return;
    }
    storePush(message, command).onSuccess(outcome -> {
      if (outcome.results().stream().noneMatch(RecipientResult::isStored)) {
        ErrorCode refused = outcome.results().get(0).error();
        BusFailures.fail(message, new ProtocolException(refused, "nothing was stored: " + refused.meaning()));
      } else {
        message.reply(outcome.toJson());
      }
    });
  }

  /**
   * A push from this node's HTTP API, which has already checked its API key and its {@code from};
   * the key's name comes in the {@link Addresses#PRINCIPAL_HEADER} header. Answered with the
   * {@link SendOutcome} record, refusals included: the API turns them into its status codes.
   */
  private void onApiPush(Message<JsonObject> message) {
    SendCommand command;
    try {
      String principal = message.headers().get(Addresses.PRINCIPAL_HEADER);
      command = asPush(validator.parse(message.body(), message.body().getValue("from", defaultSender)),
          principal == null ? "" : principal);
    } catch (RuntimeException e) {
      metrics.pushRefused(BusFailures.asProtocolException(e).code());
      BusFailures.fail(message, e);
      return;
    }
    storePush(message, command).onSuccess(message::reply);
  }

  /** Stores one push: its outcome, or, when the request failed as a whole, the request failed with its code. */
  private Future<SendOutcome> storePush(Message<JsonObject> message, SendCommand command) {
    return store(List.of(command)).transform(done -> {
      SendBatchResult.Entry entry = done.succeeded() ? done.result().get(0) : null;
      if (entry == null || entry.failure() != null) {
        Throwable failure = entry == null ? done.cause() : entry.failure();
        metrics.pushRefused(BusFailures.asProtocolException(failure).code());
        BusFailures.fail(message, failure);
        return Future.failedFuture(failure);
      }
      countPush(entry.outcome());
      return Future.succeededFuture(entry.outcome());
    });
  }

  /** Accepted when any copy was stored, as the HTTP API answers 202; else refused with the first refusal's code. */
  private void countPush(SendOutcome outcome) {
    RecipientResult refusal = null;
    for (RecipientResult result : outcome.results()) {
      if (result.isStored()) {
        metrics.pushAccepted(outcome.duplicate());
        return;
      }
      refusal = refusal == null ? result : refusal;
    }
    if (refusal != null) {
      metrics.pushRefused(refusal.error());
    }
  }

  /** A validated push as stored: marked as a push, its idempotency key scoped to the API key that made it. */
  private static SendCommand asPush(SendCommand command, String principal) {
    return new SendCommand(Senders.push(command.from()), command.to(), command.body(),
        Senders.pushKey(principal, command.idempotencyKey()), false, command.room());
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

  /**
   * A client's signal: to the nodes with sessions of its recipient, through the same hand-over as
   * committed messages, never to the store. Dropped, silently, while a gateway of this node is
   * behind (signals give way first), when the recipient has no session, or when the directory
   * cannot say where they are.
   */
  private void onSignal(Message<Signal> message) {
    Signal signal = message.body();
    if (!behindGateways.isEmpty()) {
      metrics.signal("overloaded");
      return;
    }
    metrics.directory("lookup", directory.sessionsByNode(signal.to())).onComplete(done -> {
      if (done.failed() || done.result().isEmpty()) {
        metrics.signal("offline");
        return;
      }
      DeliveryBatch batch = new DeliveryBatch(List.of(), List.of(signal));
      for (String node : done.result().keySet()) {
        if (node.equals(directory.localNode())) {
          vertx.eventBus().publish(Addresses.GATEWAY_DELIVER, batch, LOCAL_RECORD);
        } else {
          vertx.eventBus().send(Addresses.node(node), batch, relayOptions);
        }
      }
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

  /**
   * Messages committed by another node's router for users with sessions here. Any cluster member
   * can send to this address, and what it hands on reaches sessions as messages from whoever the
   * batch names: outside insecure mode only relays carrying {@code cluster.nodeKey} are delivered.
   */
  private void onRelay(Message<DeliveryBatch> message) {
    if (!nodeKey.presentedBy(message)) {
      LOG.warn("dropped a relay of {} messages without the cluster's node key: a member that is not a "
          + "Switchboard node of this cluster sent to {}", message.body().messages().size(), message.address());
      return;
    }
    metrics.relayedIn(message.body().messages().size());
    // Signals are not copies: they are not counted as relayed, and they ride the same batch.
    vertx.eventBus().publish(Addresses.GATEWAY_DELIVER, message.body(), LOCAL_RECORD);
  }

  /**
   * Names each copy (msgId), has the inbox commit all the commands in one request, then delivers
   * the new copies. One entry per command, in order; the future fails only when the inbox does.
   */
  private Future<List<SendBatchResult.Entry>> storeAndDeliver(List<SendCommand> commands) {
    long now = System.currentTimeMillis();
    if (notifier != null) {
      return storeNotifyAndDeliver(commands, now);
    }
    return append(commands, List.of(), now).compose(stored -> deliver(commands, stored));
  }

  /**
   * With the webhook on: who is online is looked up before the commit, so that the notifications
   * for the others are committed with their messages (none lost, none without its message); the
   * same answer then routes the deliveries. A recipient who connects in between gets both. Room
   * messages are notified after their commit: see {@link #notifyRoomsAndRoute}.
   */
  private Future<List<SendBatchResult.Entry>> storeNotifyAndDeliver(List<SendCommand> commands, long now) {
    List<String> recipients = new ArrayList<>();
    commands.forEach(command -> recipients.addAll(command.to()));
    Future<Map<String, Map<String, Integer>>> lookedUp = recipients.isEmpty()
        ? Future.succeededFuture(Map.of())
        : metrics.directory("lookup", directory.sessionsByNode(recipients));
    return lookedUp
        .transform(looked -> {
          if (looked.failed()) {
            // Nobody's presence is known: no notifications rather than one to everyone.
            LOG.warn("user directory lookup for {} users failed, no offline notifications: {}", recipients.size(),
                looked.cause().getMessage());
            metrics.webhookSkipped("directory", recipients.size());
            return append(commands, List.of(), now).compose(stored -> deliver(commands, stored));
          }
          Map<String, Map<String, Integer>> online = looked.result();
          return notifier.plan(commands, online, now).compose(planned -> {
            metrics.webhookSkipped("muted", planned.muted());
            metrics.webhookSkipped("queue_full", planned.queueFull());
            return append(commands, planned.appends(), now).map(stored -> {
              notified(stored.subList(commands.size(), stored.size()));
              return stored.subList(0, commands.size());
            });
          }).compose(stored -> notifyRoomsAndRoute(commands, stored, online, now));
        });
  }

  /**
   * A room's members are known only once its message is stored: their presence is looked up then,
   * and the offline members' notifications are committed right after the messages (a node killed in
   * between loses those notifications, never a message; no member removed before the message is
   * notified of it). The same answer routes the copies.
   */
  private Future<List<SendBatchResult.Entry>> notifyRoomsAndRoute(List<SendCommand> commands, List<AppendResult> stored,
                                                                  Map<String, Map<String, Integer>> online, long now) {
    List<String> members = new ArrayList<>();
    for (AppendResult appended : stored) {
      if (appended.room() != null && !appended.duplicate()) {
        for (RecipientResult result : appended.results()) {
          if (result.isStored()) {
            members.add(result.to());
          }
        }
      }
    }
    if (members.isEmpty()) {
      return Future.succeededFuture(route(commands, stored, online));
    }
    return metrics.directory("lookup", directory.sessionsByNode(members)).transform(looked -> {
      if (looked.failed()) {
        LOG.warn("user directory lookup for {} room members failed, no offline notifications: {}", members.size(),
            looked.cause().getMessage());
        metrics.webhookSkipped("directory", members.size());
        return Future.succeededFuture(route(commands, stored, online));
      }
      Map<String, Map<String, Integer>> all = new HashMap<>(online);
      all.putAll(looked.result());
      return notifier.planRooms(commands, stored, all, now)
          .compose(planned -> {
            metrics.webhookSkipped("muted", planned.muted());
            metrics.webhookSkipped("queue_full", planned.queueFull());
            return planned.appends().isEmpty()
                ? Future.<Void>succeededFuture()
                : append(List.of(), planned.appends(), now).<Void>map(results -> {
                  notified(results);
                  return null;
                });
          })
          // The messages are stored and answered as such: only their notifications are lost.
          .recover(e -> {
            LOG.warn("offline notifications of {} room members not stored: {}", members.size(), e.getMessage());
            return Future.succeededFuture();
          })
          .map(v -> route(commands, stored, all));
    });
  }

  /** Counts the notifications that were stored and wakes the dispatcher for them. */
  private void notified(List<AppendResult> notifications) {
    int stored = 0;
    for (AppendResult result : notifications) {
      if (!result.duplicate() && result.results().get(0).isStored()) {
        stored++;
      }
    }
    if (stored > 0) {
      notifier.written(stored);
      metrics.webhookWritten(stored);
      vertx.eventBus().publish(Addresses.WEBHOOK_WAKE, new JsonObject(), webhookReach);
    }
  }

  /** Has the inbox commit the messages of {@code commands}, then {@code extra} appends, in one transaction. */
  private Future<List<AppendResult>> append(List<SendCommand> commands, List<AppendRequest> extra, long now) {
    List<AppendRequest> appends = new ArrayList<>(commands.size());
    for (SendCommand command : commands) {
      if (command.room() != null && Senders.isDelivered(command.from())) {
        // A delivered receipt of a room message: the store checks, inside its commit, that its one recipient is a member.
        appends.add(new AppendRequest(command.from(), command.body(), now, command.idempotencyKey(),
            List.of(new AppendRequest.Recipient(command.to().get(0), messageIds.next())), command.room(), false));
        continue;
      }
      if (command.room() != null) {
        // A back end's push may go to any room; a user's message only to a room they are a member of.
        String msgId = messageIds.next();
        appends.add(AppendRequest.toRoom(command.from(), command.room(),
            command.receipt() ? DeliveryReceipts.requesting(msgId) : msgId, command.body(), now,
            command.idempotencyKey(), Senders.isPush(command.from())));
        continue;
      }
      List<AppendRequest.Recipient> recipients = new ArrayList<>(command.to().size());
      for (String to : command.to()) {
        String msgId = messageIds.next();
        recipients.add(new AppendRequest.Recipient(to, command.receipt() ? DeliveryReceipts.requesting(msgId) : msgId));
      }
      appends.add(new AppendRequest(command.from(), command.body(), now, command.idempotencyKey(), recipients));
    }
    appends.addAll(extra);
    return vertx.eventBus().<AppendBatchResult>request(Addresses.INBOX_APPEND, new AppendBatch(appends), inboxRequest)
        .map(reply -> reply.body().results());
  }

  /**
   * Finds the nodes with sessions of each new copy's recipient, sends each node one batch of its
   * copies in commit order, and notes who was online.
   */
  private Future<List<SendBatchResult.Entry>> deliver(List<SendCommand> commands, List<AppendResult> stored) {
    List<String> recipients = new ArrayList<>();
    for (AppendResult appended : stored) {
      if (appended.room() != null && appended.duplicate()) {
        continue; // a replay names the room, not its members, and delivers nothing
      }
      for (RecipientResult result : appended.results()) {
        if (result.isStored()) {
          recipients.add(result.to());
        }
      }
    }
    return lookup(recipients).map(online -> route(commands, stored, online));
  }

  /** Hands each new copy to the nodes where its recipient has sessions ({@code online}); one entry per command. */
  private List<SendBatchResult.Entry> route(List<SendCommand> commands, List<AppendResult> stored,
                                            Map<String, Map<String, Integer>> online) {
    Map<String, List<StoredMessage>> byNode = new LinkedHashMap<>();
    List<SendBatchResult.Entry> entries = new ArrayList<>(commands.size());
    for (int i = 0; i < commands.size(); i++) {
      SendCommand command = commands.get(i);
      AppendResult appended = stored.get(i);
      if (appended.room() != null) {
        entries.add(SendBatchResult.Entry.of(roomOutcome(command, appended, online, byNode)));
        continue;
      }
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
    handOver(byNode);
    return entries;
  }

  /** Each node's copies, in one batch per node: to this node's gateways, or relayed to the node's router. */
  private void handOver(Map<String, List<StoredMessage>> byNode) {
    byNode.forEach((node, copies) -> {
      DeliveryBatch batch = new DeliveryBatch(copies);
      if (node.equals(directory.localNode())) {
        vertx.eventBus().publish(Addresses.GATEWAY_DELIVER, batch, LOCAL_RECORD);
      } else {
        metrics.relayedOut(copies.size());
        vertx.eventBus().send(Addresses.node(node), batch, relayOptions);
      }
    });
  }

  /**
   * A room message's outcome for its sender (one result named after the room: the msgId, or why it
   * was refused), its members' copies added to their nodes' batches. {@code online}: whether any
   * other member had a session.
   */
  private static SendOutcome roomOutcome(SendCommand command, AppendResult appended,
                                         Map<String, Map<String, Integer>> online, Map<String, List<StoredMessage>> byNode) {
    if (appended.roomSeq() == 0 || appended.duplicate()) {
      RecipientResult only = appended.results().get(0);
      return new SendOutcome(appended.duplicate(), List.of(only.isStored() ? only.withOnline(false) : only),
          appended.room(), appended.roomSeq());
    }
    // A receipt about the room is stored as a plain receipt in each of its recipients' inboxes: no room message.
    boolean receipt = Senders.isAnyReceipt(command.from());
    String msgId = null;
    long ts = 0;
    boolean anyOnline = false;
    ErrorCode refused = null;
    for (RecipientResult result : appended.results()) {
      if (!result.isStored()) {
        refused = result.error();
        continue;
      }
      msgId = result.msgId();
      ts = result.ts();
      Map<String, Integer> nodes = online.getOrDefault(result.to(), Map.of());
      anyOnline |= !nodes.isEmpty() && !result.to().equals(command.from());
      StoredMessage copy = receipt
          ? new StoredMessage(result.msgId(), result.seq(), command.from(), result.to(), command.body(), result.ts())
          : new StoredMessage(result.msgId(), result.seq(), command.from(), result.to(), command.body(),
              result.ts(), appended.room(), appended.roomSeq(), null);
      for (String node : nodes.keySet()) {
        byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(copy);
      }
    }
    if (msgId == null && receipt && refused == null) {
      // A read by the room's only member: nobody to tell, nothing stored.
      return new SendOutcome(false, List.of(RecipientResult.stored(appended.room(), "", 0, 0)), appended.room(),
          appended.roomSeq());
    }
    if (msgId == null) {
      // Every member's inbox was full: nothing stored, the room's seq is spent.
      return new SendOutcome(false, List.of(RecipientResult.refused(appended.room(), ErrorCode.INBOX_FULL)),
          appended.room(), appended.roomSeq());
    }
    return new SendOutcome(false, List.of(RecipientResult.stored(appended.room(), msgId, 0, ts).withOnline(anyOnline)),
        appended.room(), appended.roomSeq());
  }

  /** A room request of this node's gateways or HTTP API: already authenticated, {@code by} is who asks. */
  private void onRoomRequest(Message<JsonObject> message) {
    Future.succeededFuture(message.body())
        .map(RoomRequest::fromJson)
        .compose(this::handleRoom)
        .onSuccess(message::reply)
        .onFailure(e -> BusFailures.fail(message, e));
  }

  /**
   * A back end's room request on the bus: outside insecure mode it proves itself with an API key, as
   * for {@link Addresses#PUSH}; it acts as a back end, which may do everything to any room.
   */
  private void onBusRoomRequest(Message<JsonObject> message) {
    Future.succeededFuture(message.body()).map(body -> {
      Object by = body.getValue("by", defaultSender);
      if (apiKeys != null) {
        AuthConfig.ApiKey key = apiKeys.matchKey(message.headers().get(Addresses.API_KEY_HEADER));
        if (key == null) {
          throw new ProtocolException(ErrorCode.UNAUTHORIZED, Addresses.ROOMS + " needs a valid API key in the '"
              + Addresses.API_KEY_HEADER + "' header of its delivery options (auth.mode is jwt)");
        }
        // As a push's from: a key names someone else (a room's owner) only if it may speak for others.
        by = ApiKeys.sender(key, body.getValue("by"));
      }
      if (!(by instanceof String byId)) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "by must be a user id");
      }
      Object op = body.getValue("op");
      RoomRequest.Op parsed = op instanceof String name ? RoomRequest.Op.fromWireName(name) : null;
      if (parsed == null) {
        throw new ProtocolException(op == null ? ErrorCode.MISSING_FIELD : ErrorCode.INVALID_FIELD,
            "op must be one of create, add, remove, members, rooms");
      }
      return new RoomRequest(parsed, stringOrNull(body, "room"), stringOrNull(body, "member"), byId, true);
    }).compose(this::handleRoom)
        .onSuccess(message::reply)
        .onFailure(e -> BusFailures.fail(message, e));
  }

  private static String stringOrNull(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value != null && !(value instanceof String)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, field + " must be a string");
    }
    return (String) value;
  }

  /**
   * Checks a room request's ids and who may ask, has the inbox commit a change (delivering its event
   * to the members' live sessions) or read what is asked. Changes are checked against the room as
   * stored inside their commit; reads here (a member lists its room, a user its own rooms).
   */
  private Future<JsonObject> handleRoom(RoomRequest request) {
    if (request.op() == null) {
      return Future.failedFuture(new ProtocolException(ErrorCode.INVALID_FIELD, "unknown room request"));
    }
    ids.requireValid("by", request.by());
    if (request.op() != RoomRequest.Op.ROOMS) {
      requireId("room", request.room());
    }
    if (request.op() == RoomRequest.Op.ADD || request.op() == RoomRequest.Op.REMOVE || request.op() == RoomRequest.Op.ROOMS) {
      requireId(request.op() == RoomRequest.Op.ROOMS ? "user" : "member", request.member());
    }
    return switch (request.op()) {
      case CREATE, ADD, REMOVE -> changeRoom(request);
      case MEMBERS -> vertx.eventBus().<JsonObject>request(Addresses.INBOX_ROOM_READ, request.toJson(), inboxRequest)
          .map(reply -> {
            RoomInfo info = RoomInfo.fromJson(reply.body());
            if (!request.asService() && !info.members().contains(request.by())) {
              throw new ProtocolException(ErrorCode.NOT_A_MEMBER, "only members list a room's members");
            }
            return reply.body();
          });
      case ROOMS -> {
        if (!request.asService() && !request.by().equals(request.member())) {
          throw new ProtocolException(ErrorCode.FORBIDDEN, "a user lists only their own rooms");
        }
        yield vertx.eventBus().<JsonObject>request(Addresses.INBOX_ROOM_READ, request.toJson(), inboxRequest)
            .map(Message::body);
      }
    };
  }

  private void requireId(String field, String id) {
    if (id == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, field + " is required");
    }
    ids.requireValid(field, id);
  }

  private Future<JsonObject> changeRoom(RoomRequest request) {
    RoomChange.Op op = switch (request.op()) {
      case CREATE -> RoomChange.Op.CREATE;
      case ADD -> RoomChange.Op.ADD;
      default -> RoomChange.Op.REMOVE;
    };
    RoomChange change = new RoomChange(op, request.room(), request.member(), request.by(), request.asService(),
        messageIds.next(), System.currentTimeMillis());
    return vertx.eventBus().<JsonObject>request(Addresses.INBOX_ROOM_CHANGE, change.toJson(), inboxRequest)
        .map(reply -> RoomChangeResult.fromJson(reply.body()))
        .compose(result -> {
          if (!result.ok()) {
            return Future.failedFuture(new ProtocolException(result.error(), result.error().meaning()));
          }
          return deliverEvents(result.events())
              .map(v -> new JsonObject().put("room", request.room()).put("roomSeq", result.roomSeq()));
        });
  }

  /** A room event's copies to the live sessions of the members who got one; stored is what counts. */
  private Future<Void> deliverEvents(List<StoredMessage> events) {
    if (events.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> members = events.stream().map(StoredMessage::to).toList();
    return lookup(members).map(online -> {
      Map<String, List<StoredMessage>> byNode = new LinkedHashMap<>();
      for (StoredMessage event : events) {
        for (String node : online.getOrDefault(event.to(), Map.of()).keySet()) {
          byNode.computeIfAbsent(node, k -> new ArrayList<>()).add(event);
        }
      }
      handOver(byNode);
      return null;
    });
  }

  /** The nodes with sessions of each user that has any; none when the directory cannot say. */
  private Future<Map<String, Map<String, Integer>>> lookup(List<String> users) {
    if (users.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return metrics.directory("lookup", directory.sessionsByNode(users)).recover(e -> {
      // Stored is what counts: the recipients will get it from the inbox on their next read.
      LOG.warn("user directory lookup for {} users failed: {}", users.size(), e.getMessage());
      return Future.succeededFuture(Map.of());
    });
  }
}
