package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The list fields of the bus records, to and from JSON arrays of objects. */
final class JsonLists {

  private JsonLists() {
  }

  static <T> JsonArray toArray(List<T> items, Function<T, JsonObject> toJson) {
    JsonArray array = new JsonArray(new ArrayList<>(items.size()));
    items.forEach(item -> array.add(toJson.apply(item)));
    return array;
  }

  static <T> List<T> fromArray(JsonArray array, Function<JsonObject, T> fromJson) {
    List<T> items = new ArrayList<>(array.size());
    for (Object o : array) {
      items.add(fromJson.apply((JsonObject) o));
    }
    return items;
  }
}
