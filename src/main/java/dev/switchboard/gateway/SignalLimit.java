package dev.switchboard.gateway;

/**
 * A connection's signal rate: {@code limits.signalsPerSecond}, with bursts of as many. A signal
 * over it is dropped; the first one dropped since a signal last passed is answered with an error,
 * the rest silently, so a client typing too fast is told once, not once per keystroke. Time is
 * passed in, so the rule is tested without clocks or event loops.
 */
final class SignalLimit {

  /** What to do with one signal. */
  enum Verdict { PASS, DROP_AND_TELL, DROP }

  private final TokenBucket bucket;
  private boolean told;

  SignalLimit(int perSecond, long nowMillis) {
    this.bucket = new TokenBucket(perSecond, perSecond, nowMillis);
  }

  Verdict admit(long nowMillis) {
    if (bucket.tryTake(nowMillis)) {
      told = false;
      return Verdict.PASS;
    }
    if (told) {
      return Verdict.DROP;
    }
    told = true;
    return Verdict.DROP_AND_TELL;
  }
}
