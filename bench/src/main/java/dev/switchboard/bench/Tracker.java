package dev.switchboard.bench;

import org.HdrHistogram.Histogram;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * Receiver-side accounting, owned by the generator's single event loop: per sender->recipient
 * pair which sequence numbers arrived (duplicates, order), and latency from intended send time to
 * receipt. Senders count what they sent; {@link #distinct} joins the two at the end.
 */
final class Tracker {

  /** One sender->recipient pair as seen by the recipient. */
  static final class Pair {
    final BitSet seen = new BitSet();
    long last = -1;
    long distinct;
  }

  private static final long MAX_MICROS = 3_600_000_000L;

  final Token token;
  private final Map<Integer, Pair>[] pairs;
  private final Token.Parsed parsed = new Token.Parsed();

  /** Latency (µs) from intended send to receipt, of messages intended at or after {@link #measureFrom}. */
  Histogram latency = newHistogram();
  /** Latency (µs) from intended send to the server's durable acceptance (accepted / PUBACK / HTTP 202). */
  Histogram acceptLatency = newHistogram();
  /**
   * The same messages' latency in three parts (µs; the server's {@code ts} has ms resolution): the
   * generator's own lateness in writing a send, intended send to the server's ts (taken as the
   * router hands the send to the store), and that ts to receipt. The first shows the generator's
   * share; the other two where the rest was spent, before or after the store.
   */
  Histogram sendLag = newHistogram();
  Histogram toStore = newHistogram();
  Histogram fromStore = newHistogram();
  /** The same latency split by the second of the window the message was intended in: shows whether a tail is one stall or spread. */
  Histogram[] latencyBySecond = new Histogram[0];
  long measureFrom = Long.MAX_VALUE;
  long measureUntil = Long.MAX_VALUE;

  long delivered;          // distinct messages of this run received
  long deliveredMeasured;  // ... of which intended inside the measurement window
  long receivedInWindow;   // ... of which received inside the measurement window (achieved rate)
  long duplicates;
  long outOfOrder;
  long foreign;            // message frames whose body is not a token of this run
  long lastDeliveryNanos;

  @SuppressWarnings("unchecked")
  Tracker(Token token, int recipients) {
    this.token = token;
    this.pairs = new Map[recipients];
  }

  static Histogram newHistogram() {
    return new Histogram(MAX_MICROS, 3);
  }

  void resetHistograms(long from, long until) {
    latency = newHistogram();
    acceptLatency = newHistogram();
    sendLag = newHistogram();
    toStore = newHistogram();
    fromStore = newHistogram();
    // Only a window of known length is split by second (the other scenarios measure until Long.MAX_VALUE).
    long seconds = until - from > 0 && until - from <= 3_600_000_000_000L ? (until - from + 999_999_999L) / 1_000_000_000L : 0;
    latencyBySecond = new Histogram[(int) seconds];
    for (int i = 0; i < latencyBySecond.length; i++) {
      latencyBySecond[i] = new Histogram(MAX_MICROS, 2);
    }
    measureFrom = from;
    measureUntil = until;
    deliveredMeasured = 0;
    receivedInWindow = 0;
  }

  /** A message body b[off, off+len) reached recipient {@code r}. Returns the sender, or -1. */
  int onDelivered(int r, byte[] b, int off, int len) {
    return onDelivered(r, b, off, len, -1);
  }

  /** As {@link #onDelivered(int, byte[], int, int)}, with the server's {@code ts} of the copy (ms), or -1. */
  int onDelivered(int r, byte[] b, int off, int len, long serverTs) {
    long now = Token.now();
    if (!token.parse(b, off, len, parsed)) {
      foreign++;
      return -1;
    }
    Map<Integer, Pair> m = pairs[r];
    if (m == null) {
      m = new HashMap<>(4);
      pairs[r] = m;
    }
    Pair p = m.get(parsed.sender);
    if (p == null) {
      p = new Pair();
      m.put(parsed.sender, p);
    }
    long q = parsed.seq;
    if (q > Integer.MAX_VALUE || p.seen.get((int) q)) {
      duplicates++;
      return parsed.sender;
    }
    p.seen.set((int) q);
    p.distinct++;
    delivered++;
    lastDeliveryNanos = now;
    if (now >= measureFrom && now < measureUntil) {
      receivedInWindow++;
    }
    if (q < p.last) {
      outOfOrder++;
    } else {
      p.last = q;
    }
    if (parsed.intended >= measureFrom && parsed.intended < measureUntil) {
      deliveredMeasured++;
      long micros = clamp((now - parsed.intended) / 1000);
      latency.recordValue(micros);
      if (serverTs >= 0) {
        long tsNanos = (serverTs - Token.baseWallMillis) * 1_000_000L;
        toStore.recordValue(clamp(Math.max(0, tsNanos - parsed.intended) / 1000));
        fromStore.recordValue(clamp(Math.max(0, now - tsNanos) / 1000));
      }
      long second = (parsed.intended - measureFrom) / 1_000_000_000L;
      if (second >= 0 && second < latencyBySecond.length) {
        latencyBySecond[(int) second].recordValue(micros);
      }
    }
    return parsed.sender;
  }

  /** The generator wrote a send meant for {@code intended} at {@code now}. */
  void onSent(long intended, long now) {
    if (intended >= measureFrom && intended < measureUntil) {
      sendLag.recordValue(clamp((now - intended) / 1000));
    }
  }

  void onAccepted(long intended) {
    if (intended >= measureFrom && intended < measureUntil) {
      acceptLatency.recordValue(clamp((Token.now() - intended) / 1000));
    }
  }

  /** Distinct messages recipient {@code r} got from {@code sender}. */
  long distinct(int r, int sender) {
    Map<Integer, Pair> m = pairs[r];
    Pair p = m == null ? null : m.get(sender);
    return p == null ? 0 : p.distinct;
  }

  /** Whether {@code r} got message {@code seq} of {@code sender}. */
  boolean got(int r, int sender, long seq) {
    Map<Integer, Pair> m = pairs[r];
    Pair p = m == null ? null : m.get(sender);
    return p != null && seq <= Integer.MAX_VALUE && p.seen.get((int) seq);
  }

  private static long clamp(long micros) {
    return Math.max(0, Math.min(MAX_MICROS, micros));
  }
}
