package dev.switchboard.bench;

import java.util.BitSet;

/**
 * Room accounting of the {@code rooms} scenario, per (member, room): the room seqs the server
 * accepted for each room are what every member of that room must get, each exactly once and in
 * increasing order. Member {@code i} belongs to room {@code i / members} (one room per user), and
 * touched only on the generator's event loop.
 */
final class RoomLedger {

  private final int rooms;
  private final int members;
  /** Per room: the roomSeqs of its accepted messages. */
  private final BitSet[] accepted;
  private final long[] acceptedCount;
  /** Per room: the roomSeq the setup left it at (its last room event); messages come after it. */
  private final long[] base;
  /** Per member: the roomSeqs of the messages it got, the last one, and the last room event's. */
  private final BitSet[] got;
  private final long[] last;
  private final long[] lastEvent;
  /** Per member: the roomSeq of the event that made it a member (the room's creation for its owner). */
  private final long[] joined;

  long distinct;
  long duplicates;
  long outOfOrder;
  /** Deliveries of a room the member is not in, or with no roomSeq. */
  long foreign;

  RoomLedger(int rooms, int members) {
    this.rooms = rooms;
    this.members = members;
    accepted = new BitSet[rooms];
    acceptedCount = new long[rooms];
    base = new long[rooms];
    for (int k = 0; k < rooms; k++) {
      accepted[k] = new BitSet();
    }
    int users = rooms * members;
    got = new BitSet[users];
    last = new long[users];
    lastEvent = new long[users];
    joined = new long[users];
    for (int i = 0; i < users; i++) {
      got[i] = new BitSet();
    }
  }

  int rooms() {
    return rooms;
  }

  int members() {
    return members;
  }

  int roomOf(int member) {
    return member / members;
  }

  /** The setup left room {@code k} at {@code roomSeq} (the answer to its last membership change). */
  void setBase(int k, long roomSeq) {
    base[k] = Math.max(base[k], roomSeq);
  }

  /** Member {@code i} became a member with the room event {@code roomSeq}. */
  void setJoined(int i, long roomSeq) {
    joined[i] = roomSeq;
  }

  /** The server accepted a message to room {@code k} as its {@code roomSeq}. */
  void onAccepted(int k, long roomSeq) {
    if (k < 0 || k >= rooms || roomSeq <= 0 || roomSeq > Integer.MAX_VALUE) {
      return;
    }
    if (!accepted[k].get((int) roomSeq)) {
      accepted[k].set((int) roomSeq);
      acceptedCount[k]++;
    }
  }

  /** Member {@code i} got a room event (created, added) of room {@code k} at {@code roomSeq}. */
  void onEvent(int i, int k, long roomSeq) {
    if (k == roomOf(i)) {
      lastEvent[i] = Math.max(lastEvent[i], roomSeq);
    }
  }

  /** Member {@code i} got a message of room {@code k} at {@code roomSeq}. */
  void onDelivered(int i, int k, long roomSeq) {
    if (k != roomOf(i) || roomSeq <= 0 || roomSeq > Integer.MAX_VALUE) {
      foreign++;
      return;
    }
    BitSet g = got[i];
    if (g.get((int) roomSeq)) {
      duplicates++;
      return;
    }
    g.set((int) roomSeq);
    distinct++;
    if (roomSeq < last[i]) {
      outOfOrder++;
    } else {
      last[i] = roomSeq;
    }
  }

  /**
   * Whether every member has seen the event that made it a member. A big room tells a change only to
   * the member and the actor (limits.roomEventMembers), so a member cannot wait for every later event.
   */
  boolean settled() {
    for (int i = 0; i < lastEvent.length; i++) {
      if (lastEvent[i] < joined[i]) {
        return false;
      }
    }
    return true;
  }

  /** Copies owed: every accepted message of a room, once to each of its members. */
  long expected() {
    long e = 0;
    for (long c : acceptedCount) {
      e += c * members;
    }
    return e;
  }

  /** Accepted messages a member did not get (counted per member, so a surplus elsewhere hides nothing). */
  long lost() {
    long lost = 0;
    for (int i = 0; i < got.length; i++) {
      BitSet missing = (BitSet) accepted[roomOf(i)].clone();
      missing.andNot(got[i]);
      lost += missing.cardinality();
    }
    return lost;
  }

  /** Copies received whose roomSeq the server never accepted to us (a message nobody in this run sent). */
  long unexpected() {
    long n = 0;
    for (int i = 0; i < got.length; i++) {
      BitSet extra = (BitSet) got[i].clone();
      extra.andNot(accepted[roomOf(i)]);
      n += extra.cardinality();
    }
    return n;
  }
}
