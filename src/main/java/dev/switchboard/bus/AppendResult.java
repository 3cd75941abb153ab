package dev.switchboard.bus;

import dev.switchboard.protocol.JsonWriter;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The inbox's answer to an {@link AppendRequest}: one result per recipient, in request order.
 * {@code duplicate} is true when the idempotency key was seen before and nothing new was stored.
 * For a message to a room, {@code room} and its {@code roomSeq} are set and the results are those of
 * the members' copies (a refused room message has one result, named after the room, with the error);
 * a replay of a room message has one result, the sender's.
 */
public record AppendResult(boolean duplicate, List<RecipientResult> results, String room, long roomSeq) {

  public AppendResult(boolean duplicate, List<RecipientResult> results) {
    this(duplicate, results, null, 0);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("duplicate", duplicate)
        .put("results", JsonLists.toArray(results, RecipientResult::toJson));
    if (room != null) {
      json.put("room", room).put("roomSeq", roomSeq);
    }
    return json;
  }

  /**
   * The same text as {@code toJson().encode()}, written straight into a string: the store keeps one
   * per idempotency key, so one per keyed send.
   */
  public String encode() {
    if (room == null) {
      return encode(duplicate, results);
    }
    return toJson().encode();
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
        JsonLists.fromArray(json.getJsonArray("results"), RecipientResult::fromJson),
        json.getString("room"), json.getLong("roomSeq", 0L));
  }
}
