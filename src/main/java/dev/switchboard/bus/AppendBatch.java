package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Appends the router hands the inbox in one bus message; they are committed in one transaction,
 * in order. The reply is {@link AppendBatchResult}, sent only after the commit.
 */
public record AppendBatch(List<AppendRequest> appends) {

  public JsonObject toJson() {
    JsonArray list = new JsonArray(new ArrayList<>(appends.size()));
    appends.forEach(a -> list.add(a.toJson()));
    return new JsonObject().put("appends", list);
  }

  public static AppendBatch fromJson(JsonObject json) {
    List<AppendRequest> appends = new ArrayList<>();
    for (Object o : json.getJsonArray("appends")) {
      appends.add(AppendRequest.fromJson((JsonObject) o));
    }
    return new AppendBatch(appends);
  }
}
