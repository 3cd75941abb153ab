package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Committed messages for users with live sessions on one node, in commit order, and signals for
 * them (never stored). A gateway instance delivers those whose recipient it holds and skips the
 * rest. A node of an older version reads the messages and ignores the signals.
 */
public record DeliveryBatch(List<StoredMessage> messages, List<Signal> signals) {

  public DeliveryBatch(List<StoredMessage> messages) {
    this(messages, List.of());
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("messages", JsonLists.toArray(messages, StoredMessage::toJson));
    if (!signals.isEmpty()) {
      json.put("signals", JsonLists.toArray(signals, Signal::toJson));
    }
    return json;
  }

  public static DeliveryBatch fromJson(JsonObject json) {
    JsonArray signals = json.getJsonArray("signals");
    return new DeliveryBatch(JsonLists.fromArray(json.getJsonArray("messages"), StoredMessage::fromJson),
        signals == null ? List.of() : JsonLists.fromArray(signals, Signal::fromJson));
  }
}
