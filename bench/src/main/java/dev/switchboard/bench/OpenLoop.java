package dev.switchboard.bench;

/**
 * The open-loop sender: message g of a phase is due at {@code t0 + g / rate}, from user g mod N, to
 * that user's next peer. A 1 ms timer sends whatever is due, late or not, stamped with its intended
 * time: if the generator or the server stalls, the delay shows up in the latency instead of silently
 * lowering the offered rate (coordinated omission).
 */
final class OpenLoop {

  private final Hub hub;
  private long t0;
  private double periodNs;
  private long g;
  private long gEnd;
  private long timer = -1;
  long late; // messages sent more than 10 ms after their intended time

  OpenLoop(Hub hub) {
    this.hub = hub;
  }

  /** Starts a phase at {@code rate} messages/s for {@code seconds}; call on the loop. */
  void start(double rate, double seconds, long t0) {
    this.t0 = t0;
    this.periodNs = 1e9 / rate;
    this.g = 0;
    this.gEnd = (long) Math.ceil(rate * seconds);
    this.timer = hub.vertx.setPeriodic(1, id -> tick());
  }

  boolean done() {
    return g >= gEnd;
  }

  private void tick() {
    long now = Token.now();
    Conn[] conns = hub.conns;
    int n = conns.length;
    int burst = 0;
    while (g < gEnd && burst < 50_000) {
      long intended = t0 + (long) (g * periodNs);
      if (intended > now) {
        break;
      }
      if (now - intended > 10_000_000L) {
        late++;
      }
      int s = (int) (g % n);
      Conn c = conns[s];
      long q = c.nextSeq();
      int peer = (int) (q % hub.peers);
      c.send(hub.recipientOf(s, q), q, peer, intended);
      hub.tracker.onSent(intended, now);
      g++;
      burst++;
    }
    if (g >= gEnd) {
      stop();
    }
  }

  void stop() {
    if (timer >= 0) {
      hub.vertx.cancelTimer(timer);
      timer = -1;
    }
  }
}
