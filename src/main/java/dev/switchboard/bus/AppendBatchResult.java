package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

import java.util.List;

/** The inbox's answer to an {@link AppendBatch}: one {@link AppendResult} per append, in order. */
public record AppendBatchResult(List<AppendResult> results) {

  public JsonObject toJson() {
    return new JsonObject().put("results", JsonLists.toArray(results, AppendResult::toJson));
  }

  public static AppendBatchResult fromJson(JsonObject json) {
    return new AppendBatchResult(JsonLists.fromArray(json.getJsonArray("results"), AppendResult::fromJson));
  }
}
