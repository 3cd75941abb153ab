package dev.switchboard.bus;

/**
 * Which stored messages asked for a {@code delivered} receipt. The router marks the msgId it
 * chooses for such a copy with a suffix that its plain msgIds never carry, so the request is
 * stored with the message by every engine (no new column, no change to the log's records) and
 * read back with it from the backlog; messages that asked for nothing carry nothing extra.
 */
public final class DeliveryReceipts {

  /** Plain msgIds are base-36 digits and one {@code -}: a {@code .} never occurs in them. */
  private static final String MARK = ".r";

  private DeliveryReceipts() {
  }

  /** The msgId of a copy whose sender asked for a delivered receipt. */
  public static String requesting(String msgId) {
    return msgId + MARK;
  }

  /** Whether the copy with this msgId asked for a delivered receipt. */
  public static boolean requested(String msgId) {
    return msgId != null && msgId.endsWith(MARK);
  }
}
