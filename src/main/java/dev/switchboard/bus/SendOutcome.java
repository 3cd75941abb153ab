package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * The router's reply to a send or push: per recipient, the stored copy (msgId, seq, ts, online)
 * or the reason it was refused. {@code duplicate} marks the replay of an earlier answer.
 */
public record SendOutcome(boolean duplicate, List<RecipientResult> results) {

  public JsonObject toJson() {
    return new JsonObject().put("duplicate", duplicate).put("results", JsonLists.toArray(results, RecipientResult::toJson));
  }

  /** The same text as {@code toJson().encode()}, written straight into a string. */
  public String encode() {
    return AppendResult.encode(duplicate, results);
  }

  public static SendOutcome fromJson(JsonObject json) {
    AppendResult parsed = AppendResult.fromJson(json);
    return new SendOutcome(parsed.duplicate(), parsed.results());
  }
}
