package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

/**
 * A gateway instance's event loop fell behind ({@code behind}: it ran a timer more than
 * {@code limits.maxDeliveryLagMillis} late) or caught up again; {@code lagMillis} is how late that
 * timer ran. {@code instance} names the gateway instance within its node.
 */
public record GatewayLoad(String instance, boolean behind, long lagMillis) {

  public JsonObject toJson() {
    return new JsonObject().put("instance", instance).put("behind", behind).put("lagMillis", lagMillis);
  }

  public static GatewayLoad fromJson(JsonObject json) {
    return new GatewayLoad(json.getString("instance"), json.getBoolean("behind", false), json.getLong("lagMillis", 0L));
  }
}
