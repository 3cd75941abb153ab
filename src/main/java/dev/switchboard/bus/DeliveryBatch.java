package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Committed messages for users with live sessions on one node, in commit order. A gateway
 * instance delivers those whose recipient it holds and skips the rest.
 */
public record DeliveryBatch(List<StoredMessage> messages) {

  public JsonObject toJson() {
    JsonArray list = new JsonArray(new ArrayList<>(messages.size()));
    messages.forEach(m -> list.add(m.toJson()));
    return new JsonObject().put("messages", list);
  }

  public static DeliveryBatch fromJson(JsonObject json) {
    List<StoredMessage> messages = new ArrayList<>();
    for (Object o : json.getJsonArray("messages")) {
      messages.add(StoredMessage.fromJson((JsonObject) o));
    }
    return new DeliveryBatch(messages);
  }
}
