package dev.switchboard.bus;

import dev.switchboard.protocol.JsonWriter;
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
    JsonWriter out = new JsonWriter(32 + 96 * results.size()).beginObject()
        .field("duplicate", duplicate)
        .beginArray("results");
    for (RecipientResult result : results) {
      result.write(out);
    }
    return out.endArray().endObject().takeString();
  }

  public static AppendResult fromJson(JsonObject json) {
    return new AppendResult(json.getBoolean("duplicate", false),
        JsonLists.fromArray(json.getJsonArray("results"), RecipientResult::fromJson));
  }
}
