package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * One message for the inbox to commit to every recipient's inbox in one transaction.
 * {@code idempotencyKey} (nullable) makes a retry with the same sender and key return the first result.
 */
public record AppendRequest(String from, String body, long ts, String idempotencyKey, List<Recipient> recipients) {

  /** A recipient and the msgId the router chose for its copy. */
  public record Recipient(String to, String msgId) {
  }

  public JsonObject toJson() {
    JsonArray list = JsonLists.toArray(recipients, r -> new JsonObject().put("to", r.to()).put("msgId", r.msgId()));
    return new JsonObject()
        .put("from", from)
        .put("body", body)
        .put("ts", ts)
        .put("idempotencyKey", idempotencyKey)
        .put("recipients", list);
  }

  public static AppendRequest fromJson(JsonObject json) {
    List<Recipient> recipients = JsonLists.fromArray(json.getJsonArray("recipients"),
        r -> new Recipient(r.getString("to"), r.getString("msgId")));
    return new AppendRequest(json.getString("from"), json.getString("body"), json.getLong("ts"),
        json.getString("idempotencyKey"), recipients);
  }
}
