package dev.switchboard.bus;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The router's answer to a {@link SendBatch}: one entry per send, in the same order, either its
 * {@link SendOutcome} or the reason the whole send was refused ({@code {"error", "message"}}).
 */
public record SendBatchResult(List<Entry> entries) {

  /** Exactly one of {@code outcome} and {@code failure} is set. */
  public record Entry(SendOutcome outcome, ProtocolException failure) {

    public static Entry of(SendOutcome outcome) {
      return new Entry(outcome, null);
    }

    public static Entry failed(ProtocolException failure) {
      return new Entry(null, failure);
    }

    JsonObject toJson() {
      return outcome != null
          ? outcome.toJson()
          : new JsonObject().put("error", failure.code().wireName()).put("message", failure.getMessage());
    }

    static Entry fromJson(JsonObject json) {
      String error = json.getString("error");
      return error == null
          ? of(SendOutcome.fromJson(json))
          : failed(new ProtocolException(ErrorCode.fromWireName(error), json.getString("message")));
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("outcomes", JsonLists.toArray(entries, Entry::toJson));
  }

  public static SendBatchResult fromJson(JsonObject json) {
    return new SendBatchResult(JsonLists.fromArray(json.getJsonArray("outcomes"), Entry::fromJson));
  }
}
