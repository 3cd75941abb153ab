package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/**
 * A message as committed to one recipient's inbox: the unit of delivery. A copy of a room's message
 * or event also carries {@code room} and the room's own {@code roomSeq} (one order every member
 * sees); a room event ({@code event} = {@code created}, {@code added} or {@code removed}) names the
 * member it is about in {@code body} and who did it in {@code from}. {@code room} is null for a
 * direct message.
 */
public record StoredMessage(String msgId, long seq, String from, String to, String body, long ts,
                            String room, long roomSeq, String event) {

  /** A direct message. */
  public StoredMessage(String msgId, long seq, String from, String to, String body, long ts) {
    this(msgId, seq, from, to, body, ts, null, 0, null);
  }

  public boolean isRoomEvent() {
    return event != null;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("msgId", msgId).put("seq", seq).put("from", from).put("to", to)
        .put("body", body).put("ts", ts);
    if (room != null) {
      json.put("room", room).put("roomSeq", roomSeq);
      if (event != null) {
        json.put("event", event);
      }
    }
    return json;
  }

  public static StoredMessage fromJson(JsonObject json) {
    return new StoredMessage(json.getString("msgId"), json.getLong("seq"), json.getString("from"), json.getString("to"),
        json.getString("body"), json.getLong("ts"), json.getString("room"), json.getLong("roomSeq", 0L),
        json.getString("event"));
  }
}
