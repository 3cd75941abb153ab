package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * A page of one inbox: the messages after {@code after} in seq order, and {@code head}, the highest
 * seq ever committed to the inbox when the page was read. Messages between {@code after} and the
 * first one returned (or {@code head}) that are missing were removed by retention.
 */
public record InboxPage(long after, long head, List<StoredMessage> messages) {

  public JsonObject toJson() {
    return new JsonObject().put("after", after).put("head", head)
        .put("messages", JsonLists.toArray(messages, StoredMessage::toJson));
  }

  public static InboxPage fromJson(JsonObject json) {
    return new InboxPage(json.getLong("after"), json.getLong("head"),
        JsonLists.fromArray(json.getJsonArray("messages"), StoredMessage::fromJson));
  }
}
