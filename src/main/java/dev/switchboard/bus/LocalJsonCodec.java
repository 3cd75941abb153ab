package dev.switchboard.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * Hands JSON bodies from one verticle to another on the same node without the deep copy the
 * default codec makes: every sender builds a fresh object per message and every receiver only
 * reads it. Used only on local addresses (the wire form exists for completeness).
 */
public final class LocalJsonCodec implements MessageCodec<JsonObject, JsonObject> {

  public static final String NAME = "switchboard.json.shared";

  @Override
  public void encodeToWire(Buffer buffer, JsonObject json) {
    Buffer encoded = json.toBuffer();
    buffer.appendInt(encoded.length()).appendBuffer(encoded);
  }

  @Override
  public JsonObject decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    return new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length));
  }

  @Override
  public JsonObject transform(JsonObject json) {
    return json;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
