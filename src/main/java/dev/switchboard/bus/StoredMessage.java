package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/** A message as committed to one recipient's inbox: the unit of delivery. */
public record StoredMessage(String msgId, long seq, String from, String to, String body, long ts) {

  public JsonObject toJson() {
    return new JsonObject().put("msgId", msgId).put("seq", seq).put("from", from).put("to", to)
        .put("body", body).put("ts", ts);
  }

  public static StoredMessage fromJson(JsonObject json) {
    return new StoredMessage(json.getString("msgId"), json.getLong("seq"), json.getString("from"), json.getString("to"),
        json.getString("body"), json.getLong("ts"));
  }
}
