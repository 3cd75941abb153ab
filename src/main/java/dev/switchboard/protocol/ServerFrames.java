package dev.switchboard.protocol;

import io.vertx.core.json.JsonObject;

import static dev.switchboard.protocol.JsonText.quote;

/** Encodes the frames the server sends in the {@code switchboard.v1} protocol. */
public final class ServerFrames {

  private ServerFrames() {
  }

  /** The answer to every send, so written straight into a string like {@link #message}. */
  public static String accepted(String id, String msgId, long ts, boolean online, boolean duplicate) {
    StringBuilder frame = new StringBuilder(112 + (id == null ? 4 : id.length()) + msgId.length());
    frame.append("{\"type\":\"accepted\",\"id\":");
    quote(frame, id).append(",\"msgId\":");
    quote(frame, msgId).append(",\"ts\":").append(ts).append(",\"online\":").append(online);
    if (duplicate) {
      frame.append(",\"duplicate\":true");
    }
    return frame.append('}').toString();
  }

  /**
   * The frame sent once per delivered message, so it is written straight into a string: the same
   * bytes as {@code JsonObject.encode()} (same field order, Jackson's escaping) without a generator
   * per frame ({@link JsonText}).
   */
  public static String message(String msgId, long seq, String from, String to, String body, long ts) {
    return message(msgId, seq, from, false, to, body, ts);
  }

  /** A message frame; {@code push} (written only when true) marks a back end's push, not a user's message. */
  public static String message(String msgId, long seq, String from, boolean push, String to, String body, long ts) {
    // Room for the fixed text, two numbers and the strings unescaped: one array, no regrowth.
    StringBuilder frame = new StringBuilder(112 + msgId.length() + from.length() + to.length() + body.length());
    frame.append("{\"type\":\"message\",\"msgId\":");
    quote(frame, msgId);
    frame.append(",\"seq\":").append(seq).append(",\"from\":");
    quote(frame, from);
    if (push) {
      frame.append(",\"push\":true");
    }
    frame.append(",\"to\":");
    quote(frame, to);
    frame.append(",\"body\":");
    quote(frame, body);
    return frame.append(",\"ts\":").append(ts).append('}').toString();
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
