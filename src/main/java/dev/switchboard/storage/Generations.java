package dev.switchboard.storage;

/**
 * When a two-generation memory of idempotency keys turns: the current generation becomes the
 * previous one and the oldest is dropped, once the current has been current for the window (at
 * least a second, so a tiny window does not turn on every call). Counted from the first call, with
 * the caller's clock; a key added in the current generation is thus kept for at least the window.
 */
final class GenerationTimer {

  private final long periodMillis;
  private long since;
  private boolean started;

  GenerationTimer(long windowMillis) {
    this.periodMillis = Math.max(windowMillis, 1_000);
  }

  /** True when the generations turn at {@code now}; the next generation then starts at {@code now}. */
  boolean turn(long now) {
    if (!started) {
      started = true;
      since = now;
    }
    if (now - since < periodMillis) {
      return false;
    }
    since = now;
    return true;
  }
}
