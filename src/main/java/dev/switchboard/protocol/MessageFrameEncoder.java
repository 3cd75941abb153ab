package dev.switchboard.protocol;

/**
 * Writes {@code message} frames straight into UTF-8 bytes ({@link JsonWriter}), because a fan-out
 * delivers many frames and building each as a string first would copy it twice more.
 *
 * <p>The copies of one push share one body string, so the body's escaped form is kept for the
 * last body seen (compared by identity) and escaped once per push, not once per recipient. Not
 * thread-safe: one encoder per event loop.
 */
public final class MessageFrameEncoder {

  private final JsonWriter writer = new JsonWriter(512);
  private String lastBody;
  private byte[] lastBodyJson;

  public byte[] message(String msgId, long seq, String from, String to, String body, long ts) {
    return message(msgId, seq, from, false, to, body, ts);
  }

  /** A message frame; {@code push} (written only when true) marks a back end's push, not a user's message. */
  public byte[] message(String msgId, long seq, String from, boolean push, String to, String body, long ts) {
    return message(msgId, seq, from, push, to, null, 0, body, ts);
  }

  /** A message frame, of a room ({@code room} and {@code roomSeq} written after {@code to}) when {@code room} is set. */
  public byte[] message(String msgId, long seq, String from, boolean push, String to, String room, long roomSeq,
                        String body, long ts) {
    writer.beginObject()
        .field("type", "message")
        .field("msgId", msgId)
        .field("seq", seq)
        .field("from", from);
    if (push) {
      writer.field("push", true);
    }
    writer.field("to", to);
    if (room != null) {
      writer.field("room", room).field("roomSeq", roomSeq);
    }
    return writer
        .rawField("body", bodyJson(body))
        .field("ts", ts)
        .endObject()
        .take();
  }

  private byte[] bodyJson(String body) {
    if (body != lastBody || lastBodyJson == null) {
      lastBodyJson = JsonWriter.quoted(body);
      lastBody = body;
    }
    return lastBodyJson;
  }
}
