package dev.switchboard.gateway;

/**
 * The per-connection send rate: {@code ratePerSecond} tokens flow in, up to {@code burst}; each
 * message takes one. Time is passed in, so the rule is tested without clocks or event loops.
 */
final class TokenBucket {

  private final double ratePerMilli;
  private final double burst;
  private double tokens;
  private long lastMillis;

  TokenBucket(int ratePerSecond, int burst, long nowMillis) {
    this.ratePerMilli = ratePerSecond / 1000.0;
    this.burst = burst;
    this.tokens = burst;
    this.lastMillis = nowMillis;
  }

  /** Takes a token if there is one. */
  boolean tryTake(long nowMillis) {
    if (nowMillis > lastMillis) {
      tokens = Math.min(burst, tokens + (nowMillis - lastMillis) * ratePerMilli);
      lastMillis = nowMillis;
    }
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
