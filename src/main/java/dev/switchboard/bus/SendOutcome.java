package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The router's reply to a send or push: per recipient, the stored copy (msgId, seq, ts, online)
 * or the reason it was refused. {@code duplicate} marks the replay of an earlier answer. A message
 * to a room has one result, named after the room (its msgId, or why it was refused), and the room's
 * {@code roomSeq} it took.
 */
public record SendOutcome(boolean duplicate, List<RecipientResult> results, String room, long roomSeq) {

  public SendOutcome(boolean duplicate, List<RecipientResult> results) {
    this(duplicate, results, null, 0);
  }

  public JsonObject toJson() {
    return new AppendResult(duplicate, results, room, roomSeq).toJson();
  }

  /** The same text as {@code toJson().encode()}, written straight into a string. */
  public String encode() {
    return new AppendResult(duplicate, results, room, roomSeq).encode();
  }

  public static SendOutcome fromJson(JsonObject json) {
    AppendResult parsed = AppendResult.fromJson(json);
    return new SendOutcome(parsed.duplicate(), parsed.results(), parsed.room(), parsed.roomSeq());
  }
}
