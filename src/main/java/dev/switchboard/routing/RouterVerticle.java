package dev.switchboard.routing;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.LocalJsonCodec;
import dev.switchboard.bus.Presence;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.config.PushApiConfig;
import dev.switchboard.protocol.Ids;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a send or push into stored copies and live deliveries: validates it, names each copy
 * (msgId), has the inbox commit it, then publishes each committed copy to its recipient's
 * sessions on this node. Nothing is delivered before it is durable, so a retry never finds a
 * message that was shown but lost.
 */
public final class RouterVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(RouterVerticle.class);
  private static final DeliveryOptions LOCAL_ONLY = new DeliveryOptions().setLocalOnly(true)
      .setCodecName(LocalJsonCodec.NAME);

  private final MessageIds messageIds = new MessageIds();
  private SendValidator validator;
  private Ids ids;
  private UserDirectory directory;
  private String defaultSender;
  private DeliveryOptions inboxRequest;

  @Override
  public Future<?> start() {
    LimitsConfig limits = LimitsConfig.fromJson(config());
    validator = new SendValidator(limits);
    ids = new Ids(limits.maxIdLength());
    defaultSender = PushApiConfig.fromJson(config()).defaultSender();
    directory = new UserDirectory(vertx);
    inboxRequest = new DeliveryOptions().setSendTimeout(limits.requestTimeoutMillis()).setLocalOnly(true)
        .setCodecName(LocalJsonCodec.NAME);
    return Future.all(
        vertx.eventBus().<JsonObject>consumer(Addresses.PUSH, this::onPush).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.ROUTER_SEND, this::onClientSend).completion(),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.PRESENCE, this::onPresence).completion(),
        vertx.eventBus().<JsonObject>consumer(Addresses.node(directory.localNode()), this::onRelay).completion());
  }

  private void onPush(Message<JsonObject> message) {
    Future.succeededFuture(message.body())
        .map(json -> validator.parse(json, defaultSender))
        .compose(this::route)
        .onSuccess(outcome -> message.reply(outcome.toJson()))
        .onFailure(e -> BusFailures.fail(message, e));
  }

  private void onClientSend(Message<JsonObject> message) {
    Future.succeededFuture(message.body())
        .map(json -> validator.parse(json, null))
        .compose(this::route)
        .onSuccess(outcome -> message.reply(outcome.toJson(), LOCAL_ONLY))
        .onFailure(e -> BusFailures.fail(message, e));
  }

  private void onPresence(Message<JsonObject> message) {
    Future.succeededFuture(message.body().getString("user"))
        .map(user -> ids.requireValid("user", user))
        .compose(user -> directory.sessionsByNode(user).map(byNode ->
            new Presence(user, byNode.values().stream().mapToInt(Integer::intValue).sum())))
        .onSuccess(presence -> message.reply(presence.toJson()))
        .onFailure(e -> BusFailures.fail(message, e));
  }

  /** A message committed by another node's router for a user with sessions here. */
  private void onRelay(Message<JsonObject> message) {
    vertx.eventBus().publish(Addresses.user(message.body().getString("to")), message.body(), LOCAL_ONLY);
  }

  private Future<SendOutcome> route(SendCommand command) {
    long now = System.currentTimeMillis();
    List<AppendRequest.Recipient> recipients = new ArrayList<>(command.to().size());
    for (String to : command.to()) {
      recipients.add(new AppendRequest.Recipient(to, messageIds.next()));
    }
    AppendRequest append = new AppendRequest(command.from(), command.body(), now, command.idempotencyKey(), recipients);
    return vertx.eventBus().<JsonObject>request(Addresses.INBOX_APPEND, append.toJson(), inboxRequest)
        .compose(reply -> deliver(command, AppendResult.fromJson(reply.body())));
  }

  /** Sends each newly stored copy to the nodes with sessions of its recipient and notes who was online. */
  private Future<SendOutcome> deliver(SendCommand command, AppendResult stored) {
    List<Future<RecipientResult>> results = new ArrayList<>(stored.results().size());
    for (RecipientResult result : stored.results()) {
      results.add(result.isStored() ? deliverCopy(command, result, stored.duplicate()) : Future.succeededFuture(result));
    }
    return Future.all(results).map(all -> {
      LOG.debug("message from {} stored for {} recipients", command.from(), results.size());
      return new SendOutcome(stored.duplicate(), all.list());
    });
  }

  private Future<RecipientResult> deliverCopy(SendCommand command, RecipientResult result, boolean duplicate) {
    return directory.sessionsByNode(result.to()).map(byNode -> {
      if (!duplicate && !byNode.isEmpty()) {
        JsonObject copy = new StoredMessage(result.msgId(), result.seq(), command.from(), result.to(), command.body(),
            result.ts()).toJson();
        for (String node : byNode.keySet()) {
          if (node.equals(directory.localNode())) {
            vertx.eventBus().publish(Addresses.user(result.to()), copy, LOCAL_ONLY);
          } else {
            vertx.eventBus().send(Addresses.node(node), copy);
          }
        }
      }
      return result.withOnline(!byNode.isEmpty());
    }).recover(e -> {
      // Stored is what counts: the recipient will get it from the inbox on its next read.
      LOG.warn("user directory lookup for {} failed: {}", result.to(), e.getMessage());
      return Future.succeededFuture(result.withOnline(false));
    });
  }
}
