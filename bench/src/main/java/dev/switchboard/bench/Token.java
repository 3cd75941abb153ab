package dev.switchboard.bench;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The payload every message carries: {@code RUN:SENDER:SEQ:INTENDED[:padding]}, where RUN is this
 * invocation's id, SENDER the sender's index, SEQ the sender's own counter and INTENDED the time the
 * open-loop schedule meant the message to be sent (nanoseconds since {@link #base}). Receipt time minus
 * INTENDED is the latency, so a stall in sending is measured rather than hidden.
 */
final class Token {

  /** Origin of all INTENDED values (same JVM sends and receives, so nanoTime is comparable). */
  static final long base = System.nanoTime();
  /** The wall-clock time of {@link #base}, in ms: what the server's {@code ts} (its clock, this machine's) is compared to. */
  static final long baseWallMillis = System.currentTimeMillis();

  final String run;
  final byte[] runBytes;
  private final String padding;

  Token(int bodyBytes) {
    this.run = Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36, 36L * 36 * 36 * 36 * 36 * 36), 36);
    this.runBytes = run.getBytes(StandardCharsets.US_ASCII);
    int minimum = run.length() + 24;
    this.padding = bodyBytes > minimum ? ":" + "x".repeat(bodyBytes - minimum - 1) : "";
  }

  static long now() {
    return System.nanoTime() - base;
  }

  void append(StringBuilder sb, int sender, long seq, long intended) {
    sb.append(run).append(':').append(sender).append(':').append(seq).append(':').append(intended).append(padding);
  }

  String make(int sender, long seq, long intended) {
    StringBuilder sb = new StringBuilder(run.length() + 32 + padding.length());
    append(sb, sender, seq, intended);
    return sb.toString();
  }

  /** Parsed token fields; reused by the single generator thread. */
  static final class Parsed {
    int sender;
    long seq;
    long intended;
  }

  /** Parses b[off, off+len) into {@code out}; false when it is not a token of this run. */
  boolean parse(byte[] b, int off, int len, Parsed out) {
    int end = off + len;
    if (len < runBytes.length + 6) {
      return false;
    }
    for (int i = 0; i < runBytes.length; i++) {
      if (b[off + i] != runBytes[i]) {
        return false;
      }
    }
    int i = off + runBytes.length;
    if (b[i++] != ':') {
      return false;
    }
    long[] v = new long[3];
    for (int f = 0; f < 3; f++) {
      long x = 0;
      int start = i;
      while (i < end && b[i] >= '0' && b[i] <= '9') {
        x = x * 10 + (b[i] - '0');
        i++;
      }
      if (i == start || (f < 2 && (i >= end || b[i] != ':'))) {
        return false;
      }
      v[f] = x;
      i++;
    }
    out.sender = (int) v[0];
    out.seq = v[1];
    out.intended = v[2];
    return true;
  }
}
