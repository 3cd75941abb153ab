package dev.switchboard.storage;

import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.StoredMessage;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The entries of the log engine's records. A record is one commit (or the checkpoint that starts a
 * segment) and holds a run of entries, each {@code length:int32 kind:byte fields...}; a string is
 * {@code length:int32} and its UTF-8 bytes. An entry can be read alone from its position, which is
 * what an inbox read does.
 *
 * <pre>
 * MESSAGE  recipient seq:int64 ts:int64 msgId sender bodyBack:int64 [body]
 *          bodyBack 0: the body follows; else the body is that of the message entry bodyBack bytes
 *          earlier in the same record (the copies of one send to many recipients share one body)
 * SEND_KEY sender key createdAt:int64 fingerprint result (the append's answer as JSON)
 * CURSOR   user device seq:int64
 * HEAD     user lastSeq:int64 (checkpoints only: the seq an inbox continues from)
 * PAD      any bytes (written by a repair over damaged bytes it moved to quarantine; replay skips it)
 * ROOM_COPY recipient seq:int64 ts:int64 msgId sender room roomSeq:int64 event bodyBack:int64 [body]
 *          a member's copy of a room message (event empty) or room event (body: the member it is
 *          about); read like a MESSAGE, whose first fields it shares
 * ROOM     room roomSeq:int64 op:byte by member
 *          a room's change (op 1 created by {@code by}, 2 added, 3 removed) or a message to it (op 0):
 *          what replay needs to rebuild membership and the room's last roomSeq
 * ROOM_STATE room owner roomSeq:int64 count:int32 member... (checkpoints only: a room as it stands)
 * </pre>
 */
final class LogEntries {

  static final byte MESSAGE = 1;
  static final byte SEND_KEY = 2;
  static final byte CURSOR = 3;
  static final byte HEAD = 4;
  static final byte PAD = 5;
  static final byte ROOM_COPY = 6;
  static final byte ROOM = 7;
  static final byte ROOM_STATE = 8;
  /** The ops of a ROOM entry. */
  static final byte ROOM_MESSAGE = 0;
  static final byte ROOM_CREATED = 1;
  static final byte ROOM_ADDED = 2;
  static final byte ROOM_REMOVED = 3;
  /** The smallest record that can hold a PAD entry: record header, entry length and kind. */
  static final int MIN_PAD_RECORD = LogSegments.RECORD_HEADER + 5;
  /**
   * The fewest bytes a message entry takes (every string empty): a damaged run of {@code n} bytes
   * held at most {@code n / MIN_MESSAGE_ENTRY} messages.
   */
  static final int MIN_MESSAGE_ENTRY = 4 + 1 + 4 + 8 + 8 + 4 + 4 + 8;

  private LogEntries() {
  }

  /** A message entry as read back: its body inline, or where the entry holding it is. */
  record MessageEntry(String recipient, long seq, long ts, String msgId, String sender, long bodyBack, String body,
                      String room, long roomSeq, String event) {

    StoredMessage withBody(String sharedBody) {
      return new StoredMessage(msgId, seq, sender, recipient, sharedBody, ts, room, roomSeq, event);
    }
  }

  /** An idempotency key entry as read back. */
  record KeyEntry(String sender, String key, long createdAt, String fingerprint, String result) {
  }

  /** What replaying a record finds; offsets are from the start of the record's entries. */
  interface Visitor {
    void message(String recipient, long seq, long ts, int offset);

    void sendKey(String sender, String key, long createdAt, int offset);

    void cursor(String user, String device, long seq);

    void head(String user, long lastSeq);

    /** A ROOM entry: a change of the room, or a message to it (op {@link #ROOM_MESSAGE}). */
    default void room(String room, long roomSeq, byte op, String by, String member) {
    }

    /** A ROOM_STATE entry of a checkpoint. */
    default void roomState(String room, String owner, long roomSeq, List<String> members) {
    }
  }

  /** A growing buffer of entries; {@link #offset()} is where the next entry starts. */
  static final class Writer {
    private ByteBuffer buffer;
    private int entryStart = -1;

    Writer() {
      this(64 * 1024);
    }

    /** {@code capacity}: about what will be written; the buffer grows when it is short. */
    Writer(int capacity) {
      buffer = ByteBuffer.allocate(Math.max(64, capacity));
    }

    int offset() {
      return buffer.position();
    }

    ByteBuffer finish() {
      buffer.flip();
      return buffer;
    }

    /**
     * A message entry (ROOM_COPY for a copy of a room message or event); {@code bodyEntryOffset} is an
     * earlier message entry with the same body, or -1.
     */
    Writer message(StoredMessage m, int bodyEntryOffset) {
      int here = begin(m.room() == null ? MESSAGE : ROOM_COPY);
      string(m.to()).int64(m.seq()).int64(m.ts()).string(m.msgId()).string(m.from());
      if (m.room() != null) {
        string(m.room()).int64(m.roomSeq()).string(m.event() == null ? "" : m.event());
      }
      if (bodyEntryOffset >= 0) {
        int64(here - bodyEntryOffset);
      } else {
        int64(0).string(m.body());
      }
      return end();
    }

    Writer sendKey(String sender, String key, long createdAt, String fingerprint, String result) {
      begin(SEND_KEY);
      return string(sender).string(key).int64(createdAt).string(fingerprint).string(result).end();
    }

    Writer cursor(CursorUpdate c) {
      begin(CURSOR);
      return string(c.user()).string(c.device()).int64(c.seq()).end();
    }

    Writer head(String user, long lastSeq) {
      begin(HEAD);
      return string(user).int64(lastSeq).end();
    }

    Writer room(String room, long roomSeq, byte op, String by, String member) {
      begin(ROOM);
      ensure(1);
      string(room).int64(roomSeq);
      buffer.put(op);
      return string(by).string(member).end();
    }

    Writer roomState(String room, String owner, long roomSeq, java.util.Collection<String> members) {
      begin(ROOM_STATE);
      string(room).string(owner).int64(roomSeq);
      ensure(4);
      buffer.putInt(members.size());
      members.forEach(this::string);
      return end();
    }

    private int begin(byte kind) {
      ensure(5);
      entryStart = buffer.position();
      buffer.putInt(0).put(kind);
      return entryStart;
    }

    private Writer end() {
      buffer.putInt(entryStart, buffer.position() - entryStart - 4);
      return this;
    }

    private Writer int64(long v) {
      ensure(8);
      buffer.putLong(v);
      return this;
    }

    private Writer string(String s) {
      int length = s.length();
      ensure(4 + length);
      int start = buffer.position();
      buffer.putInt(length);
      // Ids, keys and most bodies are ASCII: copied as they are, without a byte array per string.
      for (int i = 0; i < length; i++) {
        char c = s.charAt(i);
        if (c >= 0x80) {
          buffer.position(start);
          byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
          ensure(4 + bytes.length);
          buffer.putInt(bytes.length).put(bytes);
          return this;
        }
        buffer.put((byte) c);
      }
      return this;
    }

    private void ensure(int n) {
      if (buffer.remaining() < n) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + n));
        buffer.flip();
        bigger.put(buffer);
        buffer = bigger;
      }
    }
  }

  /** The entries of a commit, in order: messages, then keys, then cursor moves. */
  static Writer commit(List<StoredMessage> rows, List<AppendPlanner.NewSendKey> keys, List<CursorUpdate> cursors,
                       long now, int[] messageOffsets, int[] keyOffsets) {
    return commit(rows, keys, cursors, java.util.Map.of(), now, messageOffsets, keyOffsets);
  }

  /** A commit that also sent to rooms: one ROOM entry per room with its new last roomSeq, after the copies. */
  static Writer commit(List<StoredMessage> rows, List<AppendPlanner.NewSendKey> keys, List<CursorUpdate> cursors,
                       java.util.Map<String, Long> roomSeqs, long now, int[] messageOffsets, int[] keyOffsets) {
    // Sized for the usual entries (ids of a few dozen bytes, each distinct body once) rather than
    // for the largest commit, so that frequent small commits allocate little.
    int capacity = 256 + 96 * rows.size() + 160 * keys.size() + 64 * cursors.size();
    String previous = null;
    for (StoredMessage m : rows) {
      if (m.body() != previous) {
        capacity += m.body().length();
        previous = m.body();
      }
    }
    Writer w = new Writer(capacity);
    String lastBody = null;
    int lastBodyOffset = -1;
    for (int i = 0; i < rows.size(); i++) {
      StoredMessage m = rows.get(i);
      messageOffsets[i] = w.offset();
      // The copies of one send carry the same String: store its bytes once.
      boolean shared = m.body() == lastBody;
      w.message(m, shared ? lastBodyOffset : -1);
      if (!shared) {
        lastBody = m.body();
        lastBodyOffset = messageOffsets[i];
      }
    }
    for (int i = 0; i < keys.size(); i++) {
      AppendPlanner.NewSendKey k = keys.get(i);
      keyOffsets[i] = w.offset();
      w.sendKey(k.key().sender(), k.key().key(), now, k.keyed().fingerprint(), k.keyed().result().encode());
    }
    roomSeqs.forEach((room, roomSeq) -> w.room(room, roomSeq, ROOM_MESSAGE, "", ""));
    cursors.forEach(w::cursor);
    return w;
  }

  /**
   * The entries of a room change: the event's copy in each member's inbox (sharing one body, the
   * member the event is about), then the ROOM entry replay rebuilds membership from.
   */
  static Writer roomChange(List<StoredMessage> events, byte op, String by, String member, String room, long roomSeq,
                           int[] messageOffsets) {
    Writer w = new Writer(256 + 96 * events.size());
    for (int i = 0; i < events.size(); i++) {
      messageOffsets[i] = w.offset();
      w.message(events.get(i), i == 0 ? -1 : messageOffsets[0]);
    }
    return w.room(room, roomSeq, op, by, member);
  }

  /** Calls {@code visitor} for each entry of a record's entries; throws on a malformed entry. */
  static void replay(ByteBuffer entries, Visitor visitor) {
    while (entries.hasRemaining()) {
      int offset = entries.position();
      int length = entries.getInt();
      if (length < 1 || length > entries.remaining()) {
        throw new IllegalStateException("entry length " + length + " at offset " + offset);
      }
      int end = entries.position() + length;
      byte kind = entries.get();
      switch (kind) {
        case MESSAGE, ROOM_COPY -> visitor.message(string(entries), entries.getLong(), entries.getLong(), offset);
        case ROOM -> visitor.room(string(entries), entries.getLong(), entries.get(), string(entries), string(entries));
        case ROOM_STATE -> {
          String room = string(entries);
          String owner = string(entries);
          long roomSeq = entries.getLong();
          int count = entries.getInt();
          List<String> members = new java.util.ArrayList<>(Math.min(count, 1 << 16));
          for (int i = 0; i < count; i++) {
            members.add(string(entries));
          }
          visitor.roomState(room, owner, roomSeq, members);
        }
        case SEND_KEY -> visitor.sendKey(string(entries), string(entries), entries.getLong(), offset);
        case CURSOR -> visitor.cursor(string(entries), string(entries), entries.getLong());
        case HEAD -> visitor.head(string(entries), entries.getLong());
        case PAD -> { }
        default -> throw new IllegalStateException("unknown entry kind " + kind + " at offset " + offset);
      }
      entries.position(end);
    }
  }

  /**
   * The (recipient, seq) of each message entry that still parses in a record whose checksum failed,
   * up to the first that does not: what a cut record may have handed out, so those seqs are not
   * handed out again. Never throws.
   */
  static void salvageSeqs(ByteBuffer entries, java.util.function.ObjLongConsumer<String> out) {
    try {
      while (entries.remaining() >= 5) {
        int length = entries.getInt();
        if (length < 1 || length > entries.remaining()) {
          return;
        }
        int end = entries.position() + length;
        byte kind = entries.get();
        if (kind == MESSAGE || kind == ROOM_COPY) {
          String recipient = string(entries);
          out.accept(recipient, entries.getLong());
        }
        entries.position(end);
      }
    } catch (RuntimeException e) {
      // The rest is garbage: what was found so far is all there is.
    }
  }

  /** A record's entries that fill {@code length} bytes with one PAD entry ({@code length} >= 5). */
  static ByteBuffer pad(int length) {
    ByteBuffer entries = ByteBuffer.allocate(length);
    entries.putInt(0, length - 4).put(4, PAD);
    return entries;
  }

  /**
   * The CRC-32C of the message entry at {@code offset} of a record's {@code entries} and, when it
   * shares the body of an earlier entry, of that entry too: what an index records per message, so
   * that a read can refuse damaged bytes of the entry or of the body it shows.
   */
  static int messageCrc(ByteBuffer entries, int offset) {
    ByteBuffer entry = entries.duplicate().limit(offset + 4 + entries.getInt(offset)).position(offset);
    long back = bodyBack(entry);
    ByteBuffer body = null;
    if (back != 0) {
      int at = (int) (offset - back);
      body = entries.duplicate().limit(at + 4 + entries.getInt(at)).position(at);
    }
    return messageCrc(entry, body);
  }

  /** The CRC-32C of a message entry read alone, and of the entry holding its body ({@code body} null if inline). */
  static int messageCrc(ByteBuffer entry, ByteBuffer body) {
    CRC32C crc = new CRC32C();
    crc.update(entry.duplicate());
    if (body != null) {
      crc.update(body.duplicate());
    }
    return (int) crc.getValue();
  }

  /** How far back the entry holding this message entry's body is (0: inline), without decoding its strings. */
  static long bodyBack(ByteBuffer entry) {
    ByteBuffer in = entry.duplicate();
    byte kind = in.get(in.position() + 4);
    in.position(in.position() + 5);
    skipString(in);
    in.position(in.position() + 16);
    skipString(in);
    skipString(in);
    if (kind == ROOM_COPY) {
      skipString(in);
      in.position(in.position() + 8);
      skipString(in);
    }
    return in.getLong();
  }

  private static void skipString(ByteBuffer in) {
    int length = in.getInt();
    if (length < 0 || length > in.remaining()) {
      throw new BufferUnderflowException();
    }
    in.position(in.position() + length);
  }

  /** The length of the entry starting at {@code entry}'s position, including its length field. */
  static int totalLength(ByteBuffer entry) {
    return 4 + entry.getInt(entry.position());
  }

  static MessageEntry message(ByteBuffer entry) {
    entry.getInt();
    byte kind = entry.get();
    if (kind != MESSAGE && kind != ROOM_COPY) {
      throw new IllegalStateException("expected a message entry, found kind " + kind);
    }
    String recipient = string(entry);
    long seq = entry.getLong();
    long ts = entry.getLong();
    String msgId = string(entry);
    String sender = string(entry);
    String room = null;
    long roomSeq = 0;
    String event = null;
    if (kind == ROOM_COPY) {
      room = string(entry);
      roomSeq = entry.getLong();
      event = string(entry);
      if (event.isEmpty()) {
        event = null;
      }
    }
    long bodyBack = entry.getLong();
    return new MessageEntry(recipient, seq, ts, msgId, sender, bodyBack, bodyBack == 0 ? string(entry) : null,
        room, roomSeq, event);
  }

  static KeyEntry sendKey(ByteBuffer entry) {
    expect(entry, SEND_KEY);
    return new KeyEntry(string(entry), string(entry), entry.getLong(), string(entry), string(entry));
  }

  private static void expect(ByteBuffer entry, byte kind) {
    entry.getInt();
    byte found = entry.get();
    if (found != kind) {
      throw new IllegalStateException("expected entry kind " + kind + ", found " + found);
    }
  }

  /** A length-prefixed UTF-8 string at the buffer's position, which moves past it. */
  static String string(ByteBuffer in) {
    int length = in.getInt();
    if (length < 0 || length > in.remaining()) {
      throw new BufferUnderflowException();
    }
    String s = new String(in.array(), in.arrayOffset() + in.position(), length, StandardCharsets.UTF_8);
    in.position(in.position() + length);
    return s;
  }
}
