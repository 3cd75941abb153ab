package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** A room as stored: its owner, its members in the order they joined, and the last roomSeq handed out. */
public record RoomInfo(String room, String owner, long roomSeq, List<String> members) {

  public JsonObject toJson() {
    return new JsonObject().put("room", room).put("owner", owner).put("roomSeq", roomSeq)
        .put("members", new JsonArray(List.copyOf(members)));
  }

  public static RoomInfo fromJson(JsonObject json) {
    List<String> members = json.getJsonArray("members").stream().map(String.class::cast).toList();
    return new RoomInfo(json.getString("room"), json.getString("owner"), json.getLong("roomSeq"), members);
  }
}
