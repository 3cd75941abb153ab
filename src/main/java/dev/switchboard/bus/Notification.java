package dev.switchboard.bus;

import dev.switchboard.protocol.JsonWriter;
import io.vertx.core.json.JsonObject;

/**
 * A notification for a recipient who had no live session when a message for them was stored, as
 * kept in {@link SystemInboxes#WEBHOOK} and posted to the webhook; {@code room} is set for a room
 * message. It holds no msgId or time of its own: the same send retried with its idempotency key must
 * encode the same bytes, so that the store answers the retry as a duplicate instead of writing a
 * second notification. Its stable id and time are those of its own entry in the webhook inbox.
 */
public record Notification(String user, String from, boolean push, String body, String room) {

  /** A direct message's or push's notification. */
  public Notification(String user, String from, boolean push, String body) {
    this(user, from, push, body, null);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("user", user).put("from", from);
    if (push) {
      json.put("push", true);
    }
    if (room != null) {
      json.put("room", room);
    }
    return json.put("body", body);
  }

  /**
   * {@link #toJson()} encoded, byte for byte, without building the JSON tree: the form stored in the
   * webhook inbox, which a retry must reproduce exactly.
   */
  public String encode() {
    JsonWriter json = new JsonWriter(64 + body.length()).beginObject().field("user", user).field("from", from);
    if (push) {
      json.field("push", true);
    }
    if (room != null) {
      json.field("room", room);
    }
    return json.field("body", body).endObject().takeString();
  }

  public static Notification fromJson(JsonObject json) {
    return new Notification(json.getString("user"), json.getString("from"), json.getBoolean("push", false),
        json.getString("body"), json.getString("room"));
  }

  /**
   * Whether {@code json} has the shape {@link #toJson} encodes, a JSON object starting with
   * {@code user}: the dispatcher copies a stored notification into its batch without parsing it.
   */
  public static boolean isEncoded(String json) {
    return json.startsWith("{\"user\":") && json.endsWith("}");
  }
}
