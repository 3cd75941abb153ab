package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/** Whether a user has live sessions, and how many. */
public record Presence(String user, int sessions) {

  public boolean online() {
    return sessions > 0;
  }

  public JsonObject toJson() {
    return new JsonObject().put("user", user).put("online", online()).put("sessions", sessions);
  }

  public static Presence fromJson(JsonObject json) {
    return new Presence(json.getString("user"), json.getInteger("sessions"));
  }
}
