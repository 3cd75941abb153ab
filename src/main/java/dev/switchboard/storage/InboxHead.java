package dev.switchboard.storage;

/** The highest seq ever given in one inbox, and how many messages it holds now (for the cap). */
public record InboxHead(long lastSeq, long stored) {

  public static final InboxHead EMPTY = new InboxHead(0, 0);
}
