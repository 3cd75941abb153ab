package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * One message for the inbox to commit to every recipient's inbox in one transaction.
 * {@code idempotencyKey} (nullable) makes a retry with the same sender and key return the first result.
 * A message to a room names {@code room} and no recipients: the store expands the room to its members
 * inside the commit. {@code asService} (a back end) may send to a room it is not a member of. A delivered
 * receipt of a room message names the room and its one recipient, the message's sender, whom the
 * store checks is still a member inside the commit.
 */
public record AppendRequest(String from, String body, long ts, String idempotencyKey, List<Recipient> recipients,
                            String room, boolean asService) {

  /** A message to users. */
  public AppendRequest(String from, String body, long ts, String idempotencyKey, List<Recipient> recipients) {
    this(from, body, ts, idempotencyKey, recipients, null, false);
  }

  /** A message to a room, stored under {@code msgId} in every member's inbox. */
  public static AppendRequest toRoom(String from, String room, String msgId, String body, long ts,
                                     String idempotencyKey, boolean asService) {
    return new AppendRequest(from, body, ts, idempotencyKey, List.of(new Recipient(room, msgId)), room, asService);
  }

  /**
   * A recipient and the msgId the router chose for its copy; for a room message, the room and the one
   * msgId; for a delivered receipt of a room message, the message's sender.
   */
  public record Recipient(String to, String msgId) {
  }

  public boolean isRoom() {
    return room != null;
  }

  /** The msgId every member's copy of a room message carries. */
  public String roomMsgId() {
    return recipients.get(0).msgId();
  }

  public JsonObject toJson() {
    JsonArray list = JsonLists.toArray(recipients, r -> new JsonObject().put("to", r.to()).put("msgId", r.msgId()));
    JsonObject json = new JsonObject()
        .put("from", from)
        .put("body", body)
        .put("ts", ts)
        .put("idempotencyKey", idempotencyKey)
        .put("recipients", list);
    if (room != null) {
      json.put("room", room).put("asService", asService);
    }
    return json;
  }

  public static AppendRequest fromJson(JsonObject json) {
    List<Recipient> recipients = JsonLists.fromArray(json.getJsonArray("recipients"),
        r -> new Recipient(r.getString("to"), r.getString("msgId")));
    return new AppendRequest(json.getString("from"), json.getString("body"), json.getLong("ts"),
        json.getString("idempotencyKey"), recipients, json.getString("room"), json.getBoolean("asService", false));
  }
}
