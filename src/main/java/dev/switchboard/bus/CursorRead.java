package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Asks for the cursors of several devices in one request ({@link Addresses#INBOX_CURSORS}), as a
 * router reads the mute settings of every offline recipient of a batch at once.
 */
public record CursorRead(List<Device> devices) {

  /** One device of one inbox: the cursor asked for. */
  public record Device(String user, String device) {
  }

  public JsonObject toJson() {
    JsonArray array = new JsonArray(new ArrayList<>(devices.size()));
    devices.forEach(d -> array.add(new JsonArray().add(d.user()).add(d.device())));
    return new JsonObject().put("devices", array);
  }

  public static CursorRead fromJson(JsonObject json) {
    JsonArray array = json.getJsonArray("devices");
    List<Device> devices = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      JsonArray pair = array.getJsonArray(i);
      devices.add(new Device(pair.getString(0), pair.getString(1)));
    }
    return new CursorRead(devices);
  }
}
