package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * State shared by all connections of one run. Everything here is touched only on the generator's
 * single event loop, so it needs no locks.
 */
final class Hub {

  final Vertx vertx;
  final Tracker tracker;
  final int peers;
  /** Ack after this many unacked deliveries, and in any case every {@link #ackIntervalMs}. */
  final int ackEvery;
  long ackIntervalMs = 1000;

  Conn[] conns = new Conn[0];

  /** Told of every message of this run a user receives (duplicates included); null when nobody asks. */
  interface DeliveryHook {
    void delivered(int recipient, int sender);
  }

  DeliveryHook onDelivery;

  /** Told of the room fields of messages, room events and accepted frames; null outside the rooms scenario. */
  interface RoomHook {
    void delivered(int member, String room, long roomSeq);

    void event(int member, String room, long roomSeq);

    void accepted(String room, long roomSeq);
  }

  RoomHook onRoom;

  /**
   * Told of room receipts and of what they name; null unless the rooms scenario runs with receipts,
   * and then room sends ask for a delivered receipt and members send room reads.
   */
  interface ReceiptHook {
    /** A room message's msgId and roomSeq, from a member's copy. */
    void copy(String room, String msgId, long roomSeq);

    /** A room send of {@code sender} was accepted. */
    void accepted(int sender, String msgId, long roomSeq);

    /** {@code receiver} got a delivered receipt: {@code by} acked {@code upTo} of {@code room}. */
    void delivered(int receiver, String room, String by, String upTo);

    /** {@code receiver} got a read receipt: {@code by} read {@code room} up to {@code upTo}. */
    void read(int receiver, String room, String by, String upTo);

    /** {@code reader} sent a read of its room up to {@code upTo}. */
    void readSent(int reader, String upTo);
  }

  ReceiptHook onReceipt;
  /** With receipts: a member sends a room read after acking once this many room messages came since its last. */
  int readEvery;

  long sent;            // sends written
  long sendSkipped;     // sends not written: the sender's connection was down
  long accepted;        // accepted / PUBACK
  long rejected;        // error replies to a send
  long otherErrors;     // error frames without a send id
  long connected;
  long connectFailed;
  long synced;
  long closedUnexpectedly;
  long gapFrames;
  long seqGaps;         // server seq jumped on a connection (v1 only)
  long acksSent;
  long messagesTotal;   // every message frame, duplicates included
  long readsSent;       // room reads written (receipts scenario)

  Hub(Vertx vertx, Tracker tracker, int peers, int ackEvery) {
    this.vertx = vertx;
    this.tracker = tracker;
    this.peers = Math.max(1, peers);
    this.ackEvery = Math.max(1, ackEvery);
  }

  /** Sender {@code s}'s message {@code q} goes to this user: the next {@code peers} users, in turn. */
  int recipientOf(int s, long q) {
    return (int) ((s + 1 + (q % peers)) % conns.length);
  }

  long unanswered() {
    return sent - accepted - rejected;
  }

  /** Sent and not refused, minus distinct deliveries: what is still on the way (or lost). */
  long pending() {
    return sent - rejected - tracker.delivered;
  }

  long startAckSweeper() {
    return vertx.setPeriodic(ackIntervalMs, id -> {
      for (Conn c : conns) {
        if (c != null) {
          c.flushAck();
        }
      }
    });
  }

  /** On the loop: {@code n} Switchboard users named prefix0, prefix1, ..., which become this hub's connections. */
  WsUser[] wsUsers(String prefix, int n) {
    WsUser[] us = new WsUser[n];
    for (int i = 0; i < n; i++) {
      us[i] = new WsUser(this, i, prefix + i);
    }
    conns = us;
    return us;
  }

  /** On the loop: sends every pending ack, then closes every connection, at most 500 closing at a time. */
  Future<Void> closeAll() {
    for (Conn c : conns) {
      if (c != null) {
        c.flushAck();
      }
    }
    Conn[] all = conns;
    return Loop.windowed(all.length, 500, i -> all[i] == null ? Future.succeededFuture() : all[i].close());
  }

  /**
   * Lost = for every sender->recipient pair, what the sender wrote and the server did not refuse,
   * minus the distinct messages the recipient got. Counted per pair so a surplus on one pair (there
   * should be none) cannot hide a loss on another.
   */
  long lostDirect() {
    long lost = 0;
    for (int s = 0; s < conns.length; s++) {
      Conn c = conns[s];
      for (int p = 0; p < peers; p++) {
        int r = (s + 1 + p) % conns.length;
        long expected = c.sentPerPeer()[p] - c.rejectedPerPeer()[p];
        lost += Math.max(0, expected - tracker.distinct(r, s));
      }
    }
    return lost;
  }
}
