package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/**
 * An ephemeral signal (typing, ...) from one user to the live sessions of another: routed like a
 * committed message, but never stored. {@code data} is the sender's encoded JSON object, or null.
 */
public record Signal(String from, String to, String kind, String data) {

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("from", from).put("to", to).put("kind", kind);
    if (data != null) {
      json.put("data", data);
    }
    return json;
  }

  public static Signal fromJson(JsonObject json) {
    return new Signal(json.getString("from"), json.getString("to"), json.getString("kind"), json.getString("data"));
  }
}
