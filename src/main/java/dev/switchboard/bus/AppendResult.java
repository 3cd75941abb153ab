package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The inbox's answer to an {@link AppendRequest}: one result per recipient, in request order.
 * {@code duplicate} is true when the idempotency key was seen before and nothing new was stored.
 */
public record AppendResult(boolean duplicate, List<RecipientResult> results) {

  public JsonObject toJson() {
    return new JsonObject().put("duplicate", duplicate).put("results", JsonLists.toArray(results, RecipientResult::toJson));
  }

  /**
   * The same text as {@code toJson().encode()}, written straight into a string: the store keeps one
   * per idempotency key, so one per keyed send.
   */
  public String encode() {
    return encode(duplicate, results);
  }

  /** {@code {"duplicate":..,"results":[..]}}: the shape an append's and a push's answers share. */
  static String encode(boolean duplicate, List<RecipientResult> results) {
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
    return new AppendResult(json.getBoolean("duplicate", false),
        JsonLists.fromArray(json.getJsonArray("results"), RecipientResult::fromJson));
  }
}
