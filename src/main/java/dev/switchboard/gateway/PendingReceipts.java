package dev.switchboard.gateway;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages one session delivered that ask for a delivered receipt and that its device has not
 * acked yet: an ack up to a seq releases those at or below it, each to be receipted once. Holds at
 * most {@code max}; past that the oldest are forgotten (this device sends no receipt for them,
 * another device or a later session that acks them still does). Empty, and allocation-free, for
 * sessions that receive no such message.
 */
final class PendingReceipts {

  /** A delivered message that asks for a receipt: what the receipt needs, not the body ({@code room} null for a direct one). */
  record Pending(long seq, String msgId, String from, String room) {
  }

  private final int max;
  private ArrayDeque<Pending> pending;

  PendingReceipts(int max) {
    this.max = max;
  }

  /** Delivered messages come in seq order, so the deque stays sorted. */
  void delivered(long seq, String msgId, String from, String room) {
    if (pending == null) {
      pending = new ArrayDeque<>();
    }
    if (pending.size() == max) {
      pending.pollFirst();
    }
    pending.addLast(new Pending(seq, msgId, from, room));
  }

  /** The pending messages at or below {@code seq}, oldest first, no longer pending. */
  List<Pending> acked(long seq) {
    if (pending == null || pending.isEmpty() || pending.peekFirst().seq() > seq) {
      return List.of();
    }
    List<Pending> released = new ArrayList<>();
    while (!pending.isEmpty() && pending.peekFirst().seq() <= seq) {
      released.add(pending.pollFirst());
    }
    return released;
  }

  int size() {
    return pending == null ? 0 : pending.size();
  }
}
