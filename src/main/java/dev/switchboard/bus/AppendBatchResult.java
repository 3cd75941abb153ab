package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** The inbox's answer to an {@link AppendBatch}: one {@link AppendResult} per append, in order. */
public record AppendBatchResult(List<AppendResult> results) {

  public JsonObject toJson() {
    JsonArray list = new JsonArray(new ArrayList<>(results.size()));
    results.forEach(r -> list.add(r.toJson()));
    return new JsonObject().put("results", list);
  }

  public static AppendBatchResult fromJson(JsonObject json) {
    List<AppendResult> results = new ArrayList<>();
    for (Object o : json.getJsonArray("results")) {
      results.add(AppendResult.fromJson((JsonObject) o));
    }
    return new AppendBatchResult(results);
  }
}
