package dev.switchboard.storage;

import java.util.function.UnaryOperator;

/**
 * The two generations of a memory of idempotency keys: keys go into the current one; once it has
 * been current for the window (at least a second, so a tiny window does not turn on every call) it
 * becomes the previous one and the oldest is dropped. A key added to the current generation is thus
 * kept for at least the window. Counted from the first call, with the caller's clock.
 *
 * @param <T> one generation's structure
 */
final class Generations<T> {

  private final long periodMillis;
  /** Given the dropped generation, answers the new, empty current one (the same object, cleared, or a new one). */
  private final UnaryOperator<T> renew;
  private long since;
  private boolean started;
  private T current;
  private T previous;

  Generations(long windowMillis, T current, T previous, UnaryOperator<T> renew) {
    this.periodMillis = Math.max(windowMillis, 1_000);
    this.current = current;
    this.previous = previous;
    this.renew = renew;
  }

  /** The current generation at {@code now}, after turning if its time has come. */
  T current(long now) {
    if (!started) {
      started = true;
      since = now;
    } else if (now - since >= periodMillis) {
      since = now;
      turn();
    }
    return current;
  }

  /** The previous generation, as of the last {@link #current} call. */
  T previous() {
    return previous;
  }

  /** Turns now, whatever the time: the current generation cannot take more. */
  void turn() {
    T dropped = previous;
    previous = current;
    current = renew.apply(dropped);
  }
}
