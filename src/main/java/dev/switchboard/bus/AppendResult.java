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

  /**
   * The same text as {@code toJson().encode()}, written straight into a string: the store keeps one
   * per idempotency key, so one per keyed send.
   */
  public String encode() {
    StringBuilder out = new StringBuilder(32 + 96 * results.size());
    out.append("{\"duplicate\":").append(duplicate).append(",\"results\":[");
    for (int i = 0; i < results.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      results.get(i).appendJson(out);
    }
    return out.append("]}").toString();
  }

  public static AppendResult fromJson(JsonObject json) {
    List<RecipientResult> results = new ArrayList<>();
    for (Object o : json.getJsonArray("results")) {
      results.add(RecipientResult.fromJson((JsonObject) o));
    }
    return new AppendResult(json.getBoolean("duplicate", false), results);
  }
}
