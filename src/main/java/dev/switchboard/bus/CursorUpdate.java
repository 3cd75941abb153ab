package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/** A device of {@code user} has received every message up to {@code seq}. */
public record CursorUpdate(String user, String device, long seq) {

  public JsonObject toJson() {
    return new JsonObject().put("user", user).put("device", device).put("seq", seq);
  }

  public static CursorUpdate fromJson(JsonObject json) {
    return new CursorUpdate(json.getString("user"), json.getString("device"), json.getLong("seq"));
  }
}
