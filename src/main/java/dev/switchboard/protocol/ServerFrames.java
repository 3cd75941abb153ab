package dev.switchboard.protocol;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.json.JsonObject;

/** Encodes the frames the server sends in the {@code switchboard.v1} protocol. */
public final class ServerFrames {

  private ServerFrames() {
  }

  public static String accepted(String id, String msgId, long ts, boolean online, boolean duplicate) {
    JsonObject frame = new JsonObject().put("type", "accepted").put("id", id).put("msgId", msgId).put("ts", ts)
        .put("online", online);
    if (duplicate) {
      frame.put("duplicate", true);
    }
    return frame.encode();
  }

  /**
   * The frame sent once per delivered message, so it is written straight into a string: the same
   * bytes as {@code JsonObject.encode()} (same field order, Jackson's escaping) without a generator
   * per frame.
   */
  public static String message(String msgId, long seq, String from, String to, String body, long ts) {
    StringBuilder frame = new StringBuilder(96 + body.length());
    frame.append("{\"type\":\"message\",\"msgId\":");
    quote(frame, msgId);
    frame.append(",\"seq\":").append(seq).append(",\"from\":");
    quote(frame, from);
    frame.append(",\"to\":");
    quote(frame, to);
    frame.append(",\"body\":");
    quote(frame, body);
    return frame.append(",\"ts\":").append(ts).append('}').toString();
  }

  private static void quote(StringBuilder out, String value) {
    out.append('"');
    JsonStringEncoder.getInstance().quoteAsString(value, out);
    out.append('"');
  }

  public static String gap(long fromSeq, long toSeq) {
    return new JsonObject().put("type", "gap").put("from", fromSeq).put("to", toSeq).encode();
  }

  public static String synced(long seq) {
    return new JsonObject().put("type", "synced").put("seq", seq).encode();
  }

  public static String authenticated(String user, long expiresAtMillis) {
    return new JsonObject().put("type", "authenticated").put("user", user).put("exp", expiresAtMillis / 1000).encode();
  }

  public static String pong() {
    return "{\"type\":\"pong\"}";
  }

  public static String error(String id, ErrorCode code, String message) {
    JsonObject frame = new JsonObject().put("type", "error");
    if (id != null) {
      frame.put("id", id);
    }
    return frame.put("code", code.wireName()).put("message", message).encode();
  }
}
