package dev.switchboard.protocol;

/** A frame a client sends in the {@code switchboard.v1} protocol, after parsing and validation. */
public sealed interface ClientFrame {

  /** Starts delivery for a device; {@code since} (nullable) is the last seq the device already has. */
  record Hello(String device, Long since) implements ClientFrame {
  }

  /**
   * A message to one user; {@code id} is the client's own id, used for the reply and for retries;
   * {@code receipt}: the sender wants a {@code delivered} receipt once a device of {@code to} acks it.
   */
  record Send(String id, String to, String body, boolean receipt) implements ClientFrame {

    public Send(String id, String to, String body) {
      this(id, to, body, false);
    }
  }

  /**
   * A message to a room the user is a member of; {@code id} as for {@link Send}; {@code receipt}: the
   * sender wants a {@code delivered} receipt from each member whose device acks it.
   */
  record RoomSend(String id, String room, String body, boolean receipt) implements ClientFrame {

    public RoomSend(String id, String room, String body) {
      this(id, room, body, false);
    }
  }

  /** What a {@link RoomCall} asks. */
  enum RoomOp {
    CREATE, ADD, REMOVE, MEMBERS, ROOMS
  }

  /**
   * A request about rooms, answered with its {@code id}: create {@code room}, add or remove
   * {@code user} (removing oneself is leaving), list the room's members, list one's own rooms
   * ({@code room} and {@code user} null where the request has none).
   */
  record RoomCall(String id, RoomOp op, String room, String user) implements ClientFrame {
  }

  /** The device has every message up to and including {@code seq}. */
  record Ack(long seq) implements ClientFrame {
  }

  record Ping() implements ClientFrame {
  }

  /** A fresh token for the same user, extending the session past the old token's expiry. */
  record Token(String token) implements ClientFrame {
  }

  /**
   * An ephemeral signal (typing, ...) for every live session of {@code to}: never stored, never
   * answered. {@code data} is the encoded JSON object the client attached, null when none.
   */
  record Signal(String to, String kind, String data) implements ClientFrame {
  }

  /**
   * Mutes ({@code muted} true) or unmutes offline notifications from {@code peer}, of the messages
   * of {@code room}, or from everyone when both are null (at most one is set); {@code id}, when the
   * client gave one, names the answer or the refusal.
   */
  record Mute(String id, String peer, String room, boolean muted) implements ClientFrame {

    public Mute(String peer, String room, boolean muted) {
      this(null, peer, room, muted);
    }

    public Mute(String peer, boolean muted) {
      this(null, peer, null, muted);
    }
  }

  /**
   * Asks whether the user's own setting for {@code peer}, the messages of {@code room}, or everyone
   * (both null) is muted; answered with {@code id}.
   */
  record MuteQuery(String id, String peer, String room) implements ClientFrame {
  }

  /**
   * The user has read the conversation with {@code peer} up to the peer's message {@code upTo} (its
   * msgId), or, when {@code room} is set instead ({@code peer} null), the room's messages up to
   * {@code upTo}.
   */
  record Read(String peer, String upTo, String room) implements ClientFrame {

    public Read(String peer, String upTo) {
      this(peer, upTo, null);
    }
  }
}
