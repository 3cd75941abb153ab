package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/**
 * Asks for up to {@code limit} messages of {@code user}'s inbox with seq greater than {@code after};
 * when {@code after} is null, after the cursor stored for {@code device} (0 if it has none).
 */
public record ReadRequest(String user, String device, Long after, int limit) {

  /**
   * The inbox the health checks read. Its device starts with {@code ~}, which no client may use, so
   * no session ever reads or moves it; a sharded store answers it from any shard that answers.
   */
  public static final String PROBE_USER = "~health";

  public JsonObject toJson() {
    return new JsonObject().put("user", user).put("device", device).put("after", after).put("limit", limit);
  }

  public static ReadRequest fromJson(JsonObject json) {
    return new ReadRequest(json.getString("user"), json.getString("device"), json.getLong("after"),
        json.getInteger("limit"));
  }
}
