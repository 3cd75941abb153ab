package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Appends the router hands the inbox in one bus message; they are committed in one transaction,
 * in order. The reply is {@link AppendBatchResult}, sent only after the commit.
 */
public record AppendBatch(List<AppendRequest> appends) {

  public JsonObject toJson() {
    return new JsonObject().put("appends", JsonLists.toArray(appends, AppendRequest::toJson));
  }

  public static AppendBatch fromJson(JsonObject json) {
    return new AppendBatch(JsonLists.fromArray(json.getJsonArray("appends"), AppendRequest::fromJson));
  }
}
