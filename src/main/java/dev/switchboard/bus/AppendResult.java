package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The inbox's answer to an {@link AppendRequest}: one result per recipient, in request order.
 * {@code duplicate} is true when the idempotency key was seen before and nothing new was stored.
 */
public record AppendResult(boolean duplicate, List<RecipientResult> results) {

  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    results.forEach(r -> list.add(r.toJson()));
    return new JsonObject().put("duplicate", duplicate).put("results", list);
  }

  public static AppendResult fromJson(JsonObject json) {
    List<RecipientResult> results = new ArrayList<>();
    for (Object o : json.getJsonArray("results")) {
      results.add(RecipientResult.fromJson((JsonObject) o));
    }
    return new AppendResult(json.getBoolean("duplicate", false), results);
  }
}
