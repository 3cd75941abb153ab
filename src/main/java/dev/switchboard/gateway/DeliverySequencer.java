package dev.switchboard.gateway;

import java.util.List;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * Keeps one session's deliveries in seq order with nothing skipped or doubled. The stored backlog
 * goes first, page by page; live messages that arrive meanwhile wait, and are released once the
 * backlog has caught up with them. A live message that is not the next seq (one was missed or
 * overtaken) triggers a read from the store instead of a jump; messages the store no longer has
 * (removed by retention) are reported as a gap.
 *
 * @param <M> a message with a seq
 */
final class DeliverySequencer<M> {

  /** What the sequencer asks its session to do. */
  interface Output<M> {
    void deliver(M message);

    void gap(long fromSeq, long toSeq);

    /** Read the next page after {@code afterSeq}; null means after the device's stored cursor. */
    void read(Long afterSeq);

    /** The backlog is delivered up to {@code seq}; live messages follow. Called once. */
    void synced(long seq);
  }

  private final Output<M> output;
  private final ToLongFunction<M> seqOf;
  private final TreeMap<Long, M> waiting = new TreeMap<>();
  private long delivered = -1;
  private boolean reading;
  private boolean synced;

  DeliverySequencer(Output<M> output, ToLongFunction<M> seqOf) {
    this.output = output;
    this.seqOf = seqOf;
  }

  /** Starts delivery after {@code since}, or after the stored cursor when null. */
  void start(Long since) {
    reading = true;
    output.read(since);
  }

  /**
   * Forget live messages held back and read from the store after the last delivered seq: used when
   * the session stopped taking live messages (its socket was full) and can take them again.
   */
  void resync() {
    waiting.clear();
    if (!reading && delivered >= 0) {
      reading = true;
      output.read(delivered);
    }
  }

  /** The highest seq delivered so far, -1 before the first page. */
  long delivered() {
    return delivered;
  }

  void onLive(M message) {
    long seq = seqOf.applyAsLong(message);
    if (delivered >= 0 && seq <= delivered) {
      return;
    }
    if (reading || delivered < 0) {
      waiting.put(seq, message);
      return;
    }
    if (seq == delivered + 1) {
      deliver(message, seq);
      releaseWaiting();
    } else {
      waiting.put(seq, message);
      reading = true;
      output.read(delivered);
    }
  }

  /**
   * A page read from the store: messages after {@code after} in seq order, at most {@code limit},
   * and {@code head}, the highest seq committed before the page was read.
   */
  void onPage(long after, long head, List<M> messages, int limit) {
    reading = false;
    if (delivered < 0) {
      // A device claiming more than the inbox ever held (its store was reset) restarts from the head.
      delivered = Math.min(after, head);
    }
    for (M message : messages) {
      long seq = seqOf.applyAsLong(message);
      if (seq <= delivered) {
        continue;
      }
      if (seq > delivered + 1) {
        output.gap(delivered + 1, seq - 1);
      }
      deliver(message, seq);
    }
    if (messages.size() >= limit) {
      reading = true;
      output.read(delivered);
      return;
    }
    if (head > delivered) {
      output.gap(delivered + 1, head);
      delivered = head;
    }
    releaseWaiting();
    if (!reading && !synced) {
      synced = true;
      output.synced(delivered);
    }
  }

  private void releaseWaiting() {
    while (!waiting.isEmpty()) {
      long first = waiting.firstKey();
      if (first <= delivered) {
        waiting.pollFirstEntry();
      } else if (first == delivered + 1) {
        deliver(waiting.pollFirstEntry().getValue(), first);
      } else {
        reading = true;
        output.read(delivered);
        return;
      }
    }
  }

  private void deliver(M message, long seq) {
    delivered = seq;
    output.deliver(message);
  }
}
