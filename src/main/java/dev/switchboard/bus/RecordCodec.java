package dev.switchboard.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * Carries an immutable body over the event bus as the object itself on a local hop (no JSON built,
 * parsed or copied per message), and as its JSON form between nodes: the hops inside a node are on
 * the path of every message.
 */
public final class RecordCodec<T> implements MessageCodec<T, T> {

  /**
   * The codec, chosen by name, for JSON bodies that the sender builds fresh and the receiver only
   * reads: handed over instead of deep-copied like the default JSON codec does.
   */
  public static final String SHARED_JSON = "switchboard.json.shared";

  private final Class<T> type;
  private final String name;
  private final Function<T, JsonObject> toJson;
  private final Function<JsonObject, T> fromJson;

  private RecordCodec(Class<T> type, String name, Function<T, JsonObject> toJson, Function<JsonObject, T> fromJson) {
    this.type = type;
    this.name = name;
    this.toJson = toJson;
    this.fromJson = fromJson;
  }

  private RecordCodec(Class<T> type, Function<T, JsonObject> toJson, Function<JsonObject, T> fromJson) {
    this(type, "switchboard.record." + type.getSimpleName(), toJson, fromJson);
  }

  /**
   * Makes the batch records, inbox pages and cursor reads travel as objects, and registers {@link #SHARED_JSON};
   * once per Vert.x instance.
   */
  public static void registerAll(EventBus bus) {
    bus.registerCodec(new RecordCodec<>(JsonObject.class, SHARED_JSON, json -> json, json -> json));
    register(bus, new RecordCodec<>(SendBatch.class, SendBatch::toJson, SendBatch::fromJson));
    register(bus, new RecordCodec<>(SendBatchResult.class, SendBatchResult::toJson, SendBatchResult::fromJson));
    register(bus, new RecordCodec<>(AppendBatch.class, AppendBatch::toJson, AppendBatch::fromJson));
    register(bus, new RecordCodec<>(AppendBatchResult.class, AppendBatchResult::toJson, AppendBatchResult::fromJson));
    register(bus, new RecordCodec<>(DeliveryBatch.class, DeliveryBatch::toJson, DeliveryBatch::fromJson));
    register(bus, new RecordCodec<>(Signal.class, Signal::toJson, Signal::fromJson));
    register(bus, new RecordCodec<>(InboxPage.class, InboxPage::toJson, InboxPage::fromJson));
    register(bus, new RecordCodec<>(CursorRead.class, CursorRead::toJson, CursorRead::fromJson));
    register(bus, new RecordCodec<>(CursorReadResult.class, CursorReadResult::toJson, CursorReadResult::fromJson));
    register(bus, new RecordCodec<>(SendOutcome.class, SendOutcome::toJson, SendOutcome::fromJson));
  }

  private static <T> void register(EventBus bus, RecordCodec<T> codec) {
    bus.registerDefaultCodec(codec.type, codec);
  }

  @Override
  public void encodeToWire(Buffer buffer, T record) {
    Buffer encoded = toJson.apply(record).toBuffer();
    buffer.appendInt(encoded.length()).appendBuffer(encoded);
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    return fromJson.apply(new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + length)));
  }

  @Override
  public T transform(T record) {
    return record;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
