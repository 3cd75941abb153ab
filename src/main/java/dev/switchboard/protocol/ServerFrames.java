package dev.switchboard.protocol;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes the frames the server sends in the {@code switchboard.v1} protocol, each through
 * {@link JsonWriter}: the bytes {@code JsonObject.encode()} would give, without a JSON tree per frame.
 */
public final class ServerFrames {

  private ServerFrames() {
  }

  /** The answer to every send. */
  public static String accepted(String id, String msgId, long ts, boolean online, boolean duplicate) {
    JsonWriter frame = new JsonWriter().beginObject()
        .field("type", "accepted")
        .field("id", id)
        .field("msgId", msgId)
        .field("ts", ts)
        .field("online", online);
    if (duplicate) {
      frame.field("duplicate", true);
    }
    return frame.endObject().takeString();
  }

  /** The answer to a send to a room: the one msgId every member's copy carries, and the room's seq. */
  public static String acceptedInRoom(String id, String msgId, long ts, boolean online, boolean duplicate, String room,
                                      long roomSeq) {
    JsonWriter frame = new JsonWriter().beginObject()
        .field("type", "accepted")
        .field("id", id)
        .field("msgId", msgId)
        .field("ts", ts)
        .field("online", online)
        .field("room", room)
        .field("roomSeq", roomSeq);
    if (duplicate) {
      frame.field("duplicate", true);
    }
    return frame.endObject().takeString();
  }

  /**
   * A room event in this user's inbox: {@code by} created the room, or added or removed
   * {@code member} ({@code member} = {@code by}: they left). Stored with a seq like a message.
   */
  public static String roomEvent(String msgId, long seq, String room, long roomSeq, String event, String member,
                                 String by, long ts) {
    return new JsonWriter().beginObject().field("type", "room").field("msgId", msgId).field("seq", seq)
        .field("room", room).field("roomSeq", roomSeq).field("event", event).field("member", member).field("by", by)
        .field("ts", ts).endObject().takeString();
  }

  /** The answer to createRoom, addMember and removeMember: committed at the room's {@code roomSeq}. */
  public static String roomDone(String id, String room, long roomSeq) {
    return new JsonWriter().beginObject().field("type", "done").field("id", id).field("room", room)
        .field("roomSeq", roomSeq).endObject().takeString();
  }

  /** The answer to members: the room's owner, its last roomSeq and its members in the order they joined. */
  public static String members(String id, String room, String owner, long roomSeq, List<String> members) {
    JsonWriter frame = new JsonWriter().beginObject().field("type", "members").field("id", id).field("room", room)
        .field("owner", owner).field("roomSeq", roomSeq).beginArray("members");
    members.forEach(frame::value);
    return frame.endArray().endObject().takeString();
  }

  /** The answer to rooms: the rooms this user is a member of, sorted. */
  public static String rooms(String id, List<String> rooms) {
    JsonWriter frame = new JsonWriter().beginObject().field("type", "rooms").field("id", id).beginArray("rooms");
    rooms.forEach(frame::value);
    return frame.endArray().endObject().takeString();
  }

  /** The frame sent once per delivered message, as a string; sessions write {@link MessageFrameEncoder}'s bytes. */
  public static String message(String msgId, long seq, String from, String to, String body, long ts) {
    return message(msgId, seq, from, false, to, body, ts);
  }

  /** A message frame; {@code push} (written only when true) marks a back end's push, not a user's message. */
  public static String message(String msgId, long seq, String from, boolean push, String to, String body, long ts) {
    return new String(new MessageFrameEncoder().message(msgId, seq, from, push, to, body, ts), StandardCharsets.UTF_8);
  }

  public static String gap(long fromSeq, long toSeq) {
    return new JsonWriter().beginObject().field("type", "gap").field("from", fromSeq).field("to", toSeq)
        .endObject().takeString();
  }

  public static String synced(long seq) {
    return new JsonWriter().beginObject().field("type", "synced").field("seq", seq).endObject().takeString();
  }

  public static String authenticated(String user, long expiresAtMillis) {
    return new JsonWriter().beginObject().field("type", "authenticated").field("user", user)
        .field("exp", expiresAtMillis / 1000).endObject().takeString();
  }

  public static String pong() {
    return "{\"type\":\"pong\"}";
  }

  public static String error(String id, ErrorCode code, String message) {
    JsonWriter frame = new JsonWriter().beginObject().field("type", "error");
    if (id != null) {
      frame.field("id", id);
    }
    return frame.field("code", code.wireName()).field("message", message).endObject().takeString();
  }

  /** An ephemeral signal from {@code from}; {@code data} is the sender's encoded JSON object, written as it is. */
  public static String signal(String from, String kind, String data) {
    JsonWriter frame = new JsonWriter().beginObject().field("type", "signal").field("from", from).field("kind", kind);
    if (data != null) {
      frame.rawField("data", data.getBytes(StandardCharsets.UTF_8));
    }
    return frame.endObject().takeString();
  }

  /**
   * A read receipt as stored in the reader's peer's inbox: {@code by} has read every message this
   * user sent them up to {@code upTo} (that message's msgId). It holds a seq like a message, so it
   * is acked and resumed like one.
   */
  public static String read(String msgId, long seq, String by, String upTo, long ts) {
    return receipt("read", msgId, seq, by, null, upTo, ts);
  }

  /** As {@link #read(String, long, String, String, long)}, about the messages of {@code room} when it is set. */
  public static String read(String msgId, long seq, String by, String room, String upTo, long ts) {
    return receipt("read", msgId, seq, by, room, upTo, ts);
  }

  private static String receipt(String type, String msgId, long seq, String by, String room, String upTo, long ts) {
    JsonWriter frame = new JsonWriter().beginObject().field("type", type).field("msgId", msgId).field("seq", seq)
        .field("by", by);
    if (room != null) {
      frame.field("room", room);
    }
    return frame.field("upTo", upTo).field("ts", ts).endObject().takeString();
  }

  /** The user's offline notifications from {@code peer} (everyone when null) are now muted or not. */
  public static String muted(String peer, boolean muted) {
    return muted(peer, null, muted);
  }

  /** As {@link #muted(String, boolean)}, or for the messages of {@code room} when it is set. */
  public static String muted(String peer, String room, boolean muted) {
    return muted(null, peer, room, muted);
  }

  /** As {@link #muted(String, String, boolean)}, answering the mute or mute query {@code id} when it is set. */
  public static String muted(String id, String peer, String room, boolean muted) {
    JsonWriter frame = new JsonWriter().beginObject().field("type", "muted");
    if (id != null) {
      frame.field("id", id);
    }
    if (peer != null) {
      frame.field("peer", peer);
    }
    if (room != null) {
      frame.field("room", room);
    }
    return frame.field("muted", muted).endObject().takeString();
  }

  /**
   * A delivered receipt as stored in the sender's inbox: a device of {@code by} has received (acked)
   * this user's message {@code upTo} (its msgId). It holds a seq like a message, so it is acked and
   * resumed like one.
   */
  public static String delivered(String msgId, long seq, String by, String upTo, long ts) {
    return receipt("delivered", msgId, seq, by, null, upTo, ts);
  }

  /** As {@link #delivered(String, long, String, String, long)}, for a message of {@code room} when it is set. */
  public static String delivered(String msgId, long seq, String by, String room, String upTo, long ts) {
    return receipt("delivered", msgId, seq, by, room, upTo, ts);
  }
}
