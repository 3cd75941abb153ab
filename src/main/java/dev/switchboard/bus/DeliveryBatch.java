package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Committed messages for users with live sessions on one node, in commit order. A gateway
 * instance delivers those whose recipient it holds and skips the rest.
 */
public record DeliveryBatch(List<StoredMessage> messages) {

  public JsonObject toJson() {
    return new JsonObject().put("messages", JsonLists.toArray(messages, StoredMessage::toJson));
  }

  public static DeliveryBatch fromJson(JsonObject json) {
    return new DeliveryBatch(JsonLists.fromArray(json.getJsonArray("messages"), StoredMessage::fromJson));
  }
}
