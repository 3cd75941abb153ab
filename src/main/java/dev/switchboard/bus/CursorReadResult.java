package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The answer to a {@link CursorRead}: one cursor per device asked for, in its order; 0 for a device
 * with none, null for one the store could not read (its caller decides what an unknown means).
 */
public record CursorReadResult(List<Long> seqs) {

  public JsonObject toJson() {
    return new JsonObject().put("seqs", new JsonArray(new ArrayList<>(seqs)));
  }

  public static CursorReadResult fromJson(JsonObject json) {
    JsonArray array = json.getJsonArray("seqs");
    List<Long> seqs = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      seqs.add(array.getLong(i));
    }
    return new CursorReadResult(seqs);
  }
}
