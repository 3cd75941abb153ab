package dev.switchboard.bus;

import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The store's answer to a {@link RoomChange}: refused with {@code error}, or committed at
 * {@code roomSeq} with the event copies stored in the members' inboxes (to deliver live). A change
 * that changes nothing (adding a member again) is answered with no events and the room's current seq.
 */
public record RoomChangeResult(ErrorCode error, long roomSeq, List<StoredMessage> events) {

  public static RoomChangeResult refused(ErrorCode error) {
    return new RoomChangeResult(error, 0, List.of());
  }

  public boolean ok() {
    return error == null;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("roomSeq", roomSeq).put("events", JsonLists.toArray(events, StoredMessage::toJson));
    if (error != null) {
      json.put("error", error.wireName());
    }
    return json;
  }

  public static RoomChangeResult fromJson(JsonObject json) {
    String error = json.getString("error");
    return new RoomChangeResult(error == null ? null : ErrorCode.fromWireName(error), json.getLong("roomSeq"),
        JsonLists.fromArray(json.getJsonArray("events"), StoredMessage::fromJson));
  }
}
