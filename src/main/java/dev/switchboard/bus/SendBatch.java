package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The client sends one gateway instance read in one event-loop turn, in arrival order. One bus
 * message for many sends: each hop between verticles costs a thread wake-up, so it is paid per
 * batch rather than per message. Entries are {@link SendCommand} JSON, validated by the router.
 */
public record SendBatch(List<JsonObject> sends) {

  public JsonObject toJson() {
    return new JsonObject().put("sends", new JsonArray(new ArrayList<>(sends)));
  }

  public static SendBatch fromJson(JsonObject json) {
    return new SendBatch(JsonLists.fromArray(json.getJsonArray("sends"), send -> send));
  }
}
