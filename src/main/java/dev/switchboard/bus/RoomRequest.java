package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/**
 * A request about rooms from a client (through its gateway), the HTTP API or a back end on the bus:
 * create a room, add or remove a member, list a room's members, list a user's rooms. {@code by} is
 * who asks (the session's user, or the name a back end acts under); {@code asService} marks a back
 * end, which may do everything. {@code room} is null for {@link Op#ROOMS}; {@code member} is the
 * member added or removed, or the user whose rooms are listed.
 */
public record RoomRequest(Op op, String room, String member, String by, boolean asService) {

  /** What is asked; the wire names are those of the bus and HTTP bodies. */
  public enum Op {
    CREATE, ADD, REMOVE, MEMBERS, ROOMS;

    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The op with this wire name, or null. */
    public static Op fromWireName(String name) {
      for (Op op : values()) {
        if (op.wireName().equals(name)) {
          return op;
        }
      }
      return null;
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("op", op.wireName()).put("room", room).put("member", member).put("by", by)
        .put("asService", asService);
  }

  public static RoomRequest fromJson(JsonObject json) {
    return new RoomRequest(Op.fromWireName(json.getString("op")), json.getString("room"), json.getString("member"),
        json.getString("by"), json.getBoolean("asService", false));
  }
}
