package dev.switchboard.bus;

/**
 * Who a stored message is from. A user's message keeps the user id as its sender; a push is
 * stored as {@code push|<name>}, which no user id can be ({@code |} is forbidden in ids). So a
 * user whose id equals an API key's name (or {@code push.defaultSender}) never passes for the
 * back end: recipients are told which is which ({@code "push": true} on the message frame), on
 * live deliveries and on backlog reads alike, and the store's idempotency keys, scoped by sender,
 * never answer one for the other. A read receipt is stored the same way as {@code read|<reader>},
 * a delivered receipt as {@code delivered|<recipient>}; a receipt about a room's messages adds the
 * room, {@code read|<reader>|<room>}, so that every engine stores it with the receipt (no new
 * column, no change to the log's records) and a reader's receipts in two rooms never share a key.
 * Stored senders written before the mark read as users.
 */
public final class Senders {

  private static final String PUSH = "push|";
  /** A read receipt's stored sender: {@code read|<reader>}, which no user id and no push can be. */
  private static final String READ = "read|";
  /** A delivered receipt's stored sender: {@code delivered|<recipient>}, which no user id, push or read receipt can be. */
  private static final String DELIVERED = "delivered|";

  private Senders() {
  }

  /** The stored sender of a push shown to recipients as {@code name}. */
  public static String push(String name) {
    return PUSH + name;
  }

  public static boolean isPush(String stored) {
    return stored != null && stored.startsWith(PUSH);
  }

  /** The stored sender of a read receipt: {@code reader} has read messages of the inbox's owner. */
  public static String receipt(String reader) {
    return READ + reader;
  }

  /** The stored sender of a read receipt about the messages of {@code room}. */
  public static String receipt(String reader, String room) {
    return room == null ? receipt(reader) : READ + reader + '|' + room;
  }

  public static boolean isReceipt(String stored) {
    return stored != null && stored.startsWith(READ);
  }

  /** The stored sender of a delivered receipt: a device of {@code recipient} acked a message of the inbox's owner. */
  public static String delivered(String recipient) {
    return DELIVERED + recipient;
  }

  /** The stored sender of a delivered receipt for a message of {@code room}. */
  public static String delivered(String recipient, String room) {
    return room == null ? delivered(recipient) : DELIVERED + recipient + '|' + room;
  }

  public static boolean isDelivered(String stored) {
    return stored != null && stored.startsWith(DELIVERED);
  }

  /** A read or a delivered receipt: stored as a plain row, also when it is about a room's messages. */
  public static boolean isAnyReceipt(String stored) {
    return isReceipt(stored) || isDelivered(stored);
  }

  /** A user's own message: not a push, not a receipt of either kind. */
  public static boolean isUser(String stored) {
    return stored != null && stored.indexOf('|') < 0;
  }

  /** The sender as recipients see it: the user id, the name a push was made under, or the reader of a receipt. */
  public static String shown(String stored) {
    if (isPush(stored)) {
      return stored.substring(PUSH.length());
    }
    int from = isDelivered(stored) ? DELIVERED.length() : isReceipt(stored) ? READ.length() : -1;
    if (from < 0) {
      return stored;
    }
    int room = stored.indexOf('|', from);
    return room < 0 ? stored.substring(from) : stored.substring(from, room);
  }

  /** The room a read or delivered receipt is about, null for a receipt about direct messages (or anything else). */
  public static String receiptRoom(String stored) {
    int from = isDelivered(stored) ? DELIVERED.length() : isReceipt(stored) ? READ.length() : -1;
    if (from < 0) {
      return null;
    }
    int room = stored.indexOf('|', from);
    return room < 0 ? null : stored.substring(room + 1);
  }

  /**
   * A push's idempotency key as the store keeps it: scoped to the API key that made the push
   * ({@code principal}; empty without one), so a back end that may set {@code from} never replays
   * or blocks another back end's pushes under the same name.
   */
  public static String pushKey(String principal, String key) {
    return key == null ? null : principal.length() + ":" + principal + "|" + key;
  }
}
