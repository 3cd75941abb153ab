package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/**
 * A change of a room's membership for the store to commit: {@code by} creates the room (and is its
 * owner and first member), or adds or removes {@code member}. The store checks who may do it inside
 * the commit, unless {@code asService} (a back end, which may do everything). {@code msgId} is that
 * of the room event stored in the members' inboxes.
 */
public record RoomChange(Op op, String room, String member, String by, boolean asService, String msgId, long ts) {

  /** What a change does; the wire names are those of the room event it stores. */
  public enum Op {
    CREATE("created"), ADD("added"), REMOVE("removed");

    private final String event;

    Op(String event) {
      this.event = event;
    }

    /** The {@code event} of the room frame this change stores. */
    public String event() {
      return event;
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("op", op.name()).put("room", room).put("member", member).put("by", by)
        .put("asService", asService).put("msgId", msgId).put("ts", ts);
  }

  public static RoomChange fromJson(JsonObject json) {
    return new RoomChange(Op.valueOf(json.getString("op")), json.getString("room"), json.getString("member"),
        json.getString("by"), json.getBoolean("asService", false), json.getString("msgId"), json.getLong("ts"));
  }
}
