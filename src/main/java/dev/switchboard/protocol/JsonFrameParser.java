package dev.switchboard.protocol;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/** Turns the text of a {@code switchboard.v1} frame into a {@link ClientFrame}, or a {@link ProtocolException}. */
public final class JsonFrameParser {

  private static final int MAX_CLIENT_ID_LENGTH = 128;
  /** A signal's kind names a client feature ({@code typing}); the bound keeps it a name, not a payload. */
  static final int MAX_SIGNAL_KIND_LENGTH = 32;

  private final Ids ids;
  private final int maxBodyBytes;
  private final int maxDepth;
  private final int maxSignalBytes;

  public JsonFrameParser(Ids ids, int maxBodyBytes, int maxDepth, int maxSignalBytes) {
    this.ids = ids;
    this.maxBodyBytes = maxBodyBytes;
    this.maxDepth = maxDepth;
    this.maxSignalBytes = maxSignalBytes;
  }

  public ClientFrame parse(String text) {
    if (JsonDepth.exceeds(text, maxDepth)) {
      throw new ProtocolException(ErrorCode.BAD_JSON, "frame nests deeper than " + maxDepth + " levels");
    }
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new ProtocolException(ErrorCode.BAD_JSON, "frame is not a JSON object");
    }
    String id = json.getValue("id") instanceof String s ? s : null;
    Object type = json.getValue("type");
    if (type == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, "type is required", id);
    }
    if (!(type instanceof String typeName)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "type must be a string", id);
    }
    return switch (typeName) {
      case "hello" -> new ClientFrame.Hello(ids.requireValidDevice(requireString(json, "device", id)), optionalSeq(json, "since", id));
      case "send" -> parseSend(json, id);
      case "ack" -> new ClientFrame.Ack(requireSeq(json, "seq", id));
      case "ping" -> new ClientFrame.Ping();
      case "token" -> new ClientFrame.Token(requireString(json, "token", id));
      case "signal" -> parseSignal(json);
      case "read" -> parseRead(json);
      case "mute" -> parseMute(json, id);
      case "muted" -> parseMuteQuery(json, id);
      case "createRoom" -> parseRoomCall(json, id, ClientFrame.RoomOp.CREATE, true, false);
      case "addMember" -> parseRoomCall(json, id, ClientFrame.RoomOp.ADD, true, true);
      case "removeMember" -> parseRoomCall(json, id, ClientFrame.RoomOp.REMOVE, true, true);
      case "members" -> parseRoomCall(json, id, ClientFrame.RoomOp.MEMBERS, true, false);
      case "rooms" -> parseRoomCall(json, id, ClientFrame.RoomOp.ROOMS, false, false);
      default -> throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown frame type '" + abbreviate(typeName) + "'", id);
    };
  }

  private ClientFrame parseSend(JsonObject json, String id) {
    requireId(json, id, "send");
    if (json.containsKey("room")) {
      if (json.containsKey("to")) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "a send goes to a user (to) or to a room (room), not both", id);
      }
      String room = requireString(json, "room", id);
      if (!ids.isValid(room)) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "room is not a valid room id", id);
      }
      String body = requireBody(json, id);
      return new ClientFrame.RoomSend(id, room, body, optionalReceipt(json, id));
    }
    String to = requireString(json, "to", id);
    if (!ids.isValid(to)) {
      throw new ProtocolException(ErrorCode.INVALID_USER, "to is not a valid user id", id);
    }
    String body = requireBody(json, id);
    return new ClientFrame.Send(id, to, body, optionalReceipt(json, id));
  }

  private static boolean optionalReceipt(JsonObject json, String id) {
    Object receipt = json.getValue("receipt");
    if (receipt != null && !(receipt instanceof Boolean)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "receipt must be true or false", id);
    }
    return Boolean.TRUE.equals(receipt);
  }

  private String requireBody(JsonObject json, String id) {
    String body = requireString(json, "body", id);
    if (Utf8.length(body) > maxBodyBytes) {
      throw new ProtocolException(ErrorCode.TOO_LARGE, "body is larger than " + maxBodyBytes + " bytes", id);
    }
    return body;
  }

  /** Frames answered by their id must carry one: a string of 1..128 characters. */
  private static void requireId(JsonObject json, String id, String type) {
    if (id == null) {
      throw new ProtocolException(json.containsKey("id") ? ErrorCode.INVALID_FIELD : ErrorCode.MISSING_FIELD,
          type + " needs a string id", null);
    }
    if (id.isEmpty() || id.length() > MAX_CLIENT_ID_LENGTH) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "id must be 1.." + MAX_CLIENT_ID_LENGTH + " characters", null);
    }
  }

  private ClientFrame.RoomCall parseRoomCall(JsonObject json, String id, ClientFrame.RoomOp op, boolean hasRoom,
                                             boolean hasUser) {
    requireId(json, id, json.getString("type"));
    String room = null;
    if (hasRoom) {
      room = requireString(json, "room", id);
      if (!ids.isValid(room)) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "room is not a valid room id", id);
      }
    }
    String user = null;
    if (hasUser) {
      user = requireString(json, "user", id);
      if (!ids.isValid(user)) {
        throw new ProtocolException(ErrorCode.INVALID_USER, "user is not a valid user id", id);
      }
    }
    return new ClientFrame.RoomCall(id, op, room, user);
  }

  private ClientFrame.Signal parseSignal(JsonObject json) {
    String to = requireString(json, "to", null);
    if (!ids.isValid(to)) {
      throw new ProtocolException(ErrorCode.INVALID_USER, "to is not a valid user id");
    }
    String kind = requireString(json, "kind", null);
    if (kind.isEmpty() || kind.length() > MAX_SIGNAL_KIND_LENGTH || !ids.isValid(kind)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD,
          "kind must be 1.." + MAX_SIGNAL_KIND_LENGTH + " characters without whitespace or '|'");
    }
    Object data = json.getValue("data");
    String encoded = null;
    if (data != null) {
      if (!(data instanceof JsonObject object)) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "data must be a JSON object");
      }
      encoded = object.encode();
    }
    if (Utf8.length(kind) + (encoded == null ? 0 : Utf8.length(encoded)) > maxSignalBytes) {
      // Worded unlike the frame limit's "larger than N bytes", which clients read as gateway.maxFrameBytes.
      throw new ProtocolException(ErrorCode.TOO_LARGE, "a signal's kind and data may have at most " + maxSignalBytes
          + " bytes (limits.maxSignalBytes)");
    }
    return new ClientFrame.Signal(to, kind, encoded);
  }

  private ClientFrame.Mute parseMute(JsonObject json, String id) {
    if (json.containsKey("id")) {
      requireId(json, id, "mute");
    }
    String[] target = muteTarget(json, id);
    Object muted = json.getValue("muted");
    if (muted == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, "muted is required", id);
    }
    if (!(muted instanceof Boolean on)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "muted must be true or false", id);
    }
    return new ClientFrame.Mute(id, target[0], target[1], on);
  }

  private ClientFrame.MuteQuery parseMuteQuery(JsonObject json, String id) {
    requireId(json, id, "muted");
    String[] target = muteTarget(json, id);
    return new ClientFrame.MuteQuery(id, target[0], target[1]);
  }

  /** The {@code peer} and {@code room} of a mute or mute query: at most one of them, each a valid id. */
  private String[] muteTarget(JsonObject json, String id) {
    Object peer = json.getValue("peer");
    if (peer != null && (!(peer instanceof String p) || !ids.isValid(p))) {
      throw new ProtocolException(ErrorCode.INVALID_USER, "peer must be a valid user id, or absent for everyone", id);
    }
    Object room = json.getValue("room");
    if (room != null && (!(room instanceof String r) || !ids.isValid(r))) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "room must be a valid room id", id);
    }
    if (peer != null && room != null) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "a mute names a peer or a room, not both", id);
    }
    return new String[] {(String) peer, (String) room};
  }

  private ClientFrame.Read parseRead(JsonObject json) {
    if (json.containsKey("room")) {
      if (json.containsKey("peer")) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "a read names a peer or a room, not both");
      }
      String room = requireString(json, "room", null);
      if (!ids.isValid(room)) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "room is not a valid room id");
      }
      String upTo = requireString(json, "upTo", null);
      if (!ids.isValid(upTo)) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "upTo must be the msgId of a message of the room");
      }
      return new ClientFrame.Read(null, upTo, room);
    }
    String peer = requireString(json, "peer", null);
    if (!ids.isValid(peer)) {
      throw new ProtocolException(ErrorCode.INVALID_USER, "peer is not a valid user id");
    }
    String upTo = requireString(json, "upTo", null);
    if (!ids.isValid(upTo)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "upTo must be the msgId of a message from the peer");
    }
    return new ClientFrame.Read(peer, upTo);
  }

  private static String requireString(JsonObject json, String field, String id) {
    Object value = json.getValue(field);
    if (value == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, field + " is required", id);
    }
    if (!(value instanceof String s)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, field + " must be a string", id);
    }
    return s;
  }

  private static long requireSeq(JsonObject json, String field, String id) {
    Long seq = optionalSeq(json, field, id);
    if (seq == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, field + " is required", id);
    }
    return seq;
  }

  private static Long optionalSeq(JsonObject json, String field, String id) {
    Object value = json.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Number n) || n.doubleValue() != n.longValue() || n.longValue() < 0) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, field + " must be a whole number >= 0", id);
    }
    return n.longValue();
  }

  private static String abbreviate(String s) {
    return s.length() <= 32 ? s : s.substring(0, 32) + "...";
  }
}
