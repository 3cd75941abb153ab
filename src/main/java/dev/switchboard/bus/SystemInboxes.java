package dev.switchboard.bus;

/**
 * Inboxes and cursors the server keeps for itself in the inbox store, beside the users' inboxes.
 * Their owners contain {@code |}, which no user id may, so no client can connect as one, send to
 * one or read one; and they live in the store's existing inboxes and cursors, so every engine
 * keeps them durably without a table or record type of their own.
 */
public final class SystemInboxes {

  /**
   * The notifications for offline recipients, written in the same commit as their messages and
   * read in order by the webhook dispatcher.
   */
  public static final String WEBHOOK = "sys|webhook";
  /** The webhook dispatcher's cursor in {@link #WEBHOOK}: the last notification a receiver took (2xx). */
  public static final String WEBHOOK_DISPATCHER = "~dispatcher";
  /** The mute setting's device name for "every sender" (no user id is {@code |all}). */
  public static final String MUTE_ALL = "|all";

  private static final String MUTES = "mute|";
  private static final String ROOM_MUTE = "room|";

  private SystemInboxes() {
  }

  /**
   * Where a user's mute settings are kept: one cursor per muted peer (and {@link #MUTE_ALL}) of this
   * inbox, which holds no messages. A cursor only grows, so a setting is a counter whose odd values
   * mean muted: muting and unmuting each move it to the next value of the wanted parity.
   */
  public static String mutes(String user) {
    return MUTES + user;
  }

  /** The mute setting's device name for one room: no user id (a peer's setting) holds {@code |}. */
  public static String roomMute(String room) {
    return ROOM_MUTE + room;
  }

  /** Whether an inbox is one of the server's own; their size is bounded by their own rules, not per user. */
  public static boolean isSystem(String inbox) {
    return inbox.indexOf('|') >= 0;
  }

  /** A mute counter's meaning: odd values are muted. */
  public static boolean muted(long counter) {
    return (counter & 1) == 1;
  }

  /** The counter value that says {@code muted}, moving on from {@code current} (never backwards). */
  public static long toggled(long current, boolean muted) {
    return muted(current) == muted ? current : current + 1;
  }
}
