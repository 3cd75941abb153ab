package dev.switchboard.bus;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.JsonWriter;
import io.vertx.core.json.JsonObject;

/**
 * What happened to one recipient's copy of a message: stored with its msgId and seq, or refused
 * with an error. {@code online} is filled in by the router (null until then).
 */
public record RecipientResult(String to, String msgId, long seq, long ts, ErrorCode error, Boolean online) {

  public static RecipientResult stored(String to, String msgId, long seq, long ts) {
    return new RecipientResult(to, msgId, seq, ts, null, null);
  }

  public static RecipientResult refused(String to, ErrorCode error) {
    return new RecipientResult(to, null, 0, 0, error, null);
  }

  public boolean isStored() {
    return error == null;
  }

  public RecipientResult withOnline(boolean isOnline) {
    return new RecipientResult(to, msgId, seq, ts, error, isOnline);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("to", to);
    if (error != null) {
      return json.put("error", error.wireName()).put("message", error.meaning());
    }
    json.put("msgId", msgId).put("seq", seq).put("ts", ts);
    if (online != null) {
      json.put("online", online);
    }
    return json;
  }

  /** Writes what {@code toJson().encode()} gives, without building the object. */
  void write(JsonWriter out) {
    out.beginObject().field("to", to);
    if (error != null) {
      out.field("error", error.wireName()).field("message", error.meaning());
    } else {
      out.field("msgId", msgId).field("seq", seq).field("ts", ts);
      if (online != null) {
        out.field("online", online.booleanValue());
      }
    }
    out.endObject();
  }

  public static RecipientResult fromJson(JsonObject json) {
    String error = json.getString("error");
    if (error != null) {
      return new RecipientResult(json.getString("to"), null, 0, 0, ErrorCode.fromWireName(error), null);
    }
    return new RecipientResult(json.getString("to"), json.getString("msgId"), json.getLong("seq"),
        json.getLong("ts"), null, json.getBoolean("online"));
  }
}
