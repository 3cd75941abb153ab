package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * A message to one or more users, or to a room ({@code room} set, {@code to} empty). On
 * {@link Addresses#PUSH} {@code to} may be one id or a list and {@code from} is optional; from the
 * gateway {@code from} is the connected user. Validation happens in the router, so this record keeps
 * raw values. {@code receipt}: the sender asked for a {@code delivered} receipt, from each member for a
 * room message (user sends only; see {@link DeliveryReceipts}).
 */
public record SendCommand(String from, List<String> to, String body, String idempotencyKey, boolean receipt,
                          String room) {

  /** A command that asks for no delivered receipt, as every push and most sends are. */
  public SendCommand(String from, List<String> to, String body, String idempotencyKey) {
    this(from, to, body, idempotencyKey, false, null);
  }

  /** A direct message that may ask for a delivered receipt. */
  public SendCommand(String from, List<String> to, String body, String idempotencyKey, boolean receipt) {
    this(from, to, body, idempotencyKey, receipt, null);
  }

  /** A message to a room. */
  public static SendCommand toRoom(String from, String room, String body, String idempotencyKey) {
    return toRoom(from, room, body, idempotencyKey, false);
  }

  /** A message to a room that may ask for a delivered receipt from each member. */
  public static SendCommand toRoom(String from, String room, String body, String idempotencyKey, boolean receipt) {
    return new SendCommand(from, List.of(), body, idempotencyKey, receipt, room);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("to", new JsonArray(List.copyOf(to))).put("body", body);
    if (from != null) {
      json.put("from", from);
    }
    if (idempotencyKey != null) {
      json.put("idempotencyKey", idempotencyKey);
    }
    if (receipt) {
      json.put("receipt", true);
    }
    if (room != null) {
      json.put("room", room);
    }
    return json;
  }

  /** The fields of {@link #toJson} as they are ({@code to} a list of ids); the router validates them. */
  public static SendCommand fromJson(JsonObject json) {
    JsonArray to = json.getJsonArray("to");
    List<String> recipients = new ArrayList<>(to.size());
    for (Object id : to) {
      recipients.add((String) id);
    }
    return new SendCommand(json.getString("from"), recipients, json.getString("body"), json.getString("idempotencyKey"),
        Boolean.TRUE.equals(json.getValue("receipt")), json.getString("room"));
  }
}
