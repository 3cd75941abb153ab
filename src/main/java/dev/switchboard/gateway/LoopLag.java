package dev.switchboard.gateway;

import io.vertx.core.Vertx;

/**
 * Watches how late a timer runs on one event loop. A due timer waits behind every task already
 * queued on the loop, so its lateness is how long deliveries wait there. Behind once a timer runs
 * more than {@code limitMillis} late; caught up again once one runs within half of that, so the
 * state does not flap at the limit. Confined to the loop it watches.
 */
final class LoopLag {

  /** Told when the loop falls behind or catches up, with how late the timer that showed it ran. */
  interface Listener {
    void changed(boolean behind, long lagMillis);
  }

  private final Vertx vertx;
  private final long limitMillis;
  private final long intervalMillis;
  private final Listener listener;
  private boolean behind;
  private boolean stopped;
  private long timer = -1;
  private long dueNanos;
  /** How late the last check ran: read by the metrics scrape from another thread. */
  private volatile long lastLagMillis;

  LoopLag(Vertx vertx, long limitMillis, Listener listener) {
    this.vertx = vertx;
    this.limitMillis = limitMillis;
    // A few checks per limit, so a loop behind is seen soon after it passes the limit; not more
    // often than every 5 ms, nor less than every 100 ms (an idle gateway runs ten short timers a second).
    this.intervalMillis = Math.max(5, Math.min(100, limitMillis / 4));
    this.listener = listener;
  }

  /** Starts watching; call on the loop to watch. */
  void start() {
    schedule();
  }

  void stop() {
    stopped = true;
    vertx.cancelTimer(timer);
  }

  long lastLagMillis() {
    return lastLagMillis;
  }

  boolean behind() {
    return behind;
  }

  private void schedule() {
    dueNanos = System.nanoTime() + intervalMillis * 1_000_000L;
    timer = vertx.setTimer(intervalMillis, id -> check());
  }

  private void check() {
    long lagMillis = Math.max(0, (System.nanoTime() - dueNanos) / 1_000_000L);
    lastLagMillis = lagMillis;
    if (observe(lagMillis)) {
      listener.changed(behind, lagMillis);
    }
    if (!stopped) {
      schedule();
    }
  }

  /** Takes one lateness; returns whether the state changed. */
  boolean observe(long lagMillis) {
    if (!behind && lagMillis > limitMillis) {
      behind = true;
      return true;
    }
    if (behind && lagMillis <= limitMillis / 2) {
      behind = false;
      return true;
    }
    return false;
  }
}
