package dev.switchboard.bench;

import io.vertx.core.http.WebSocketClient;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code cluster-fanout}: users spread over the nodes of a cluster (user i on node i mod N), and an
 * open-loop stream of pushes over the HTTP push API, each to {@code --recipients R} users in turn,
 * posted to node 1 ({@code --push-via one}) or to every node in turn ({@code --push-via all}), so most
 * deliveries cross nodes. Pushes run in {@code --streams S} streams with one push in flight each: a
 * stream posts its next push only after the previous one was answered, so every recipient must get
 * each stream's pushes once and in the stream's order. A push that waits for its stream keeps its
 * intended time, so the wait shows in the latency instead of lowering the offered rate.
 */
final class ClusterFanoutRun {

  /** What one phase (a fixed push rate for a fixed time, then a drain) measured. */
  record Step(double rate, double seconds, long pushes, long accepted, long refused, long failed, long receivedInWindow,
              long lost, long duplicates, long outOfOrder, long late, long dropped, long disconnects, double drainSeconds,
              Histogram latency,
              Histogram accept, ProcStats.Cpu cpu0, ProcStats.Cpu cpu1, long deliveredInCpuWindow) implements Phase {

    boolean clean() {
      return lost == 0 && duplicates == 0 && outOfOrder == 0 && refused == 0 && failed == 0 && dropped == 0
          && disconnects == 0;
    }
  }

  /** One stream of pushes: at most one in flight, so its order is a promise the server must keep. */
  private static final class Stream {
    final int id;
    final Pusher pusher;
    final java.util.ArrayDeque<long[]> waiting = new java.util.ArrayDeque<>(); // {q, first, intended}
    long seq;
    boolean inFlight;

    Stream(int id, Pusher pusher) {
      this.id = id;
      this.pusher = pusher;
    }
  }

  private final Args a;
  private final long[] pids;
  private final long[] pgPids;
  private final int users;
  private final int recipients;
  private Loop loop;
  private Hub hub;
  private Stream[] streams;
  private long[][] expected; // [stream][user]: pushes of that stream answered 202 that name the user
  private final Map<Integer, String> toCache = new HashMap<>();
  private long late;
  private long gDue;
  private long gEnd;
  private long timer = -1;
  /** True while a phase sends: then deliveries and their acks keep the sessions alive. */
  private boolean sending;

  ClusterFanoutRun(Args a) {
    this.a = a;
    this.pids = java.util.Arrays.stream(a.longs("server-pids", new long[] {a.lng("server-pid", -1)}))
        .filter(p -> p > 0).toArray();
    this.pgPids = java.util.Arrays.stream(a.longs("pg-pid", new long[0])).filter(p -> p > 0).toArray();
    this.users = a.integer("users", 1000);
    this.recipients = Math.min(users, a.integer("recipients", Math.min(users, 100)));
  }

  int run() {
    double rate = a.dbl("rate", 20);
    double duration = a.dbl("duration", 20);
    // 30 s, as direct: past the server's first heartbeat round and the JIT's first recompilations
    double warmup = a.dbl("warmup", 30);
    double drain = a.dbl("drain", 10);
    int size = a.integer("size", 100);
    // 32: each stream waits for its 202 (a PostgreSQL commit, ~20 ms here), so the streams bound the push rate
    int streamCount = a.integer("streams", 32);
    String via = a.str("push-via", "one");
    boolean findMax = a.flag("find-max");
    String jsonOut = a.str("json", null);
    long[] wsPorts = a.longs("ws-ports", new long[] {a.integer("ws-port", 8080)});
    long[] pushPorts = a.longs("push-ports", new long[] {a.integer("push-port", 8081)});
    if (!via.equals("one") && !via.equals("all")) {
      throw new IllegalArgumentException("--push-via wants one or all");
    }
    if (streamCount < 1) {
      throw new IllegalArgumentException("--streams must be at least 1");
    }
    Bench.checkFds(users + 100L, pids.length > 0 ? pids[0] : -1, "server");

    Result res = new Result(findMax ? "cluster-fanout --find-max" : "cluster-fanout", "switchboard", a.str("label", ""));
    int nodes = wsPorts.length;
    res.put("nodes", nodes).put("users", users).put("recipients", recipients).put("body_bytes", size)
        .put("streams", streamCount).put("push_via", via).put("warmup_s", warmup);
    loop = new Loop();
    Tracker tracker = new Tracker(new Token(size), users);
    res.put("run", tracker.token.run);
    hub = new Hub(loop.vertx, tracker, 1, a.integer("ack-every", 100));
    try {
      if (!ClusterProbe.awaitFormed(loop, wsPorts, pushPorts, 60_000)) {
        res.fail("the nodes did not form one cluster within 60 s");
      } else if (connect(res, wsPorts)) {
        loop.call(hub::startAckSweeper);
        loop.call(this::startKeepAlive);
        int httpConns = Math.max(1, (int) Math.ceil(streamCount / (double) (via.equals("all") ? nodes : 1)));
        streams = loop.call(() -> {
          Pusher[] byNode = new Pusher[via.equals("all") ? nodes : 1];
          for (int n = 0; n < byNode.length; n++) {
            byNode[n] = new Pusher(loop.vertx, (int) pushPorts[n], httpConns);
          }
          Stream[] s = new Stream[streamCount];
          for (int k = 0; k < streamCount; k++) {
            s[k] = new Stream(k, byNode[k % byNode.length]);
          }
          return s;
        });
        expected = new long[streamCount][users];
        String where = via.equals("all") ? "every node in turn" : "node 1";
        double cross = nodes <= 1 ? 0 : 100.0 * (nodes - 1) / nodes;
        if (findMax) {
          findMax(res, rate, warmup, drain, where, cross);
        } else {
          res.put("push_rate", rate).put("duration_s", duration);
          res.line("load", String.format(Locale.ROOT, "%s pushes/s for %.0f s (after %.0f s warm-up) over the push API of %s, "
                  + "each to %s of %s users (spread over %d nodes: %.0f%% of deliveries cross nodes) in turn = %s "
                  + "deliveries/s offered; %d streams, one push in flight each; body %d bytes", Result.rate(rate), duration,
              warmup, where, Result.n(recipients), Result.n(users), nodes, cross, Result.rate(rate * recipients),
              streamCount, size));
          report(res, phase(rate, warmup, duration, drain));
        }
      }
    } finally {
      close();
    }
    res.print(System.out);
    res.save(jsonOut);
    return res.passed() ? 0 : 1;
  }

  private boolean connect(Result res, long[] wsPorts) {
    long t = System.nanoTime();
    List<WebSocketClient> clients = loop.call(() -> loop.wsClients(1 + users / 20_000, 10_000));
    WsUser[] us = loop.call(() -> hub.wsUsers("u", users));
    loop.awaitQuietly(() -> WsUser.connectAll(us, clients, wsPorts, a.integer("connect-window", 200), 10_000), 120_000);
    boolean all = loop.waitFor(() -> hub.synced + hub.connectFailed >= users, 30_000) && loop.call(() -> hub.synced) == users;
    long ok = loop.call(() -> hub.synced);
    double secs = (System.nanoTime() - t) / 1e9;
    res.put("connect_s", Result.round(secs));
    res.line("connect", String.format(Locale.ROOT, "%d of %d users online in %.2f s (user i on node i mod %d)", ok, users,
        secs, wsPorts.length));
    if (!all) {
      res.fail("only " + ok + " of " + users + " users connected");
    }
    return all;
  }

  /** Warm-up then a measured window at {@code rate} pushes/s, then waits (bounded) for what is still on the way. */
  Step phase(double rate, double warmup, double seconds, double drainSeconds) {
    long warmNs = (long) (warmup * 1e9);
    long measureNs = (long) (seconds * 1e9);
    long[] before = loop.call(() -> new long[] {pushes(), accepted(), refused(), failed(), lost(),
        hub.tracker.duplicates, hub.tracker.outOfOrder, hub.closedUnexpectedly});
    long t0 = loop.call(() -> {
      sending = true;
      long start = Token.now() + 2_000_000L;
      hub.tracker.resetHistograms(start + warmNs, start + warmNs + measureNs);
      late = 0;
      gDue = 0;
      gEnd = (long) Math.ceil(rate * (warmup + seconds));
      double period = 1e9 / rate;
      timer = loop.vertx.setPeriodic(1, id -> tick(start, period));
      return start;
    });
    Loop.sleepUntil(t0 + warmNs);
    ProcStats.Cpu cpu0 = ProcStats.Cpu.take(pids, pgPids);
    long deliveredAtCpu0 = loop.call(() -> hub.tracker.delivered);
    Loop.sleepUntil(t0 + warmNs + measureNs);
    long drainStart = System.nanoTime();
    long drainMs = (long) (drainSeconds * 1000);
    loop.waitFor(() -> gDue >= gEnd && idle(), drainMs);
    loop.waitFor(() -> idle() && lost() <= before[4], Math.max(1, drainMs - (System.nanoTime() - drainStart) / 1_000_000L));
    double drained = (System.nanoTime() - drainStart) / 1e9;
    ProcStats.Cpu cpu1 = ProcStats.Cpu.take(pids, pgPids);
    // pushes still queued behind their stream after the drain are not posted: the next phase starts clean
    long dropped = loop.call(() -> {
      stopTimer();
      sending = false;
      long n = gEnd - gDue;
      gDue = gEnd;
      for (Stream s : streams) {
        n += s.waiting.size();
        s.seq -= s.waiting.size();
        s.waiting.clear();
      }
      return n;
    });
    // what was in flight then is answered and delivered before the count (bounded like the drain)
    loop.waitFor(() -> idle() && lost() <= before[4], Math.max(drainMs, 5_000));
    return loop.call(() -> {
      Tracker t = hub.tracker;
      return new Step(rate, seconds, pushes() - before[0], accepted() - before[1], refused() - before[2],
          failed() - before[3], t.receivedInWindow, Math.max(0, lost() - before[4]), t.duplicates - before[5],
          t.outOfOrder - before[6], late, dropped, hub.closedUnexpectedly - before[7], drained, t.latency.copy(), t.acceptLatency.copy(), cpu0, cpu1,
          t.delivered - deliveredAtCpu0);
    });
  }

  /** Pushes g = 0.. are due at t0 + g * period; push g belongs to stream g mod S and goes to R users from (g*R) mod N. */
  private void tick(long t0, double period) {
    long now = Token.now();
    while (gDue < gEnd) {
      long intended = t0 + (long) (gDue * period);
      if (intended > now) {
        break;
      }
      if (now - intended > 10_000_000L) {
        late++;
      }
      Stream s = streams[(int) (gDue % streams.length)];
      s.waiting.add(new long[] {s.seq++, (gDue * recipients) % users, intended});
      gDue++;
      next(s);
    }
    if (gDue >= gEnd) {
      stopTimer();
    }
  }

  /**
   * Between phases (find-max waiting for a quiet machine) users hear nothing and would send nothing,
   * and the server closes a connection silent for gateway.idleTimeoutSeconds (70 s): a ping every 20 s keeps them.
   */
  private long startKeepAlive() {
    return loop.vertx.setPeriodic(20_000, id -> {
      if (!sending) {
        for (Conn c : hub.conns) {
          if (c instanceof WsUser u) {
            u.ping();
          }
        }
      }
    });
  }

  /** Posts the stream's oldest waiting push unless one is in flight. */
  private void next(Stream s) {
    if (s.inFlight || s.waiting.isEmpty()) {
      return;
    }
    long[] p = s.waiting.poll();
    long q = p[0];
    int first = (int) p[1];
    long intended = p[2];
    s.inFlight = true;
    String to = toCache.computeIfAbsent(first, f -> {
      int[] ids = new int[recipients];
      for (int j = 0; j < recipients; j++) {
        ids[j] = (f + j) % users;
      }
      return Pusher.recipients(ids);
    });
    s.pusher.push(to, hub.tracker.token.make(s.id, q, intended)).onComplete(ar -> {
      s.inFlight = false;
      if (ar.succeeded() && ar.result()) {
        hub.tracker.onAccepted(intended);
        long[] e = expected[s.id];
        for (int j = 0; j < recipients; j++) {
          e[(first + j) % users]++;
        }
      }
      next(s);
    });
  }

  private void stopTimer() {
    if (timer >= 0) {
      loop.vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private boolean idle() {
    for (Stream s : streams) {
      if (s.inFlight || !s.waiting.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /** Per stream and recipient: pushes answered 202 naming the user, minus the distinct ones the user got. */
  private long lost() {
    long lost = 0;
    for (int k = 0; k < streams.length; k++) {
      for (int r = 0; r < users; r++) {
        lost += Math.max(0, expected[k][r] - hub.tracker.distinct(r, k));
      }
    }
    return lost;
  }

  private long pushes() {
    long n = 0;
    for (Stream s : streams) {
      n += s.seq - s.waiting.size();
    }
    return n;
  }

  private long accepted() {
    return pushers().stream().mapToLong(p -> p.ok).sum();
  }

  private long refused() {
    return pushers().stream().mapToLong(p -> p.refused).sum();
  }

  private long failed() {
    return pushers().stream().mapToLong(p -> p.failed).sum();
  }

  private List<Pusher> pushers() {
    List<Pusher> ps = new ArrayList<>();
    for (Stream s : streams) {
      if (!ps.contains(s.pusher)) {
        ps.add(s.pusher);
      }
    }
    return ps;
  }

  private void report(Result res, Step st) {
    long[] conn = loop.call(() -> new long[] {hub.seqGaps, hub.closedUnexpectedly, hub.tracker.foreign});
    String lastFailure = loop.call(() -> pushers().stream().map(p -> p.lastFailure).filter(f -> f != null).findFirst()
        .orElse(null));
    res.put("pushes", st.pushes()).put("pushes_ok", st.accepted()).put("pushes_refused", st.refused())
        .put("pushes_failed", st.failed()).put("pushes_per_s", Result.round(st.accept().getTotalCount() / st.seconds()))
        .put("deliveries_per_s", Result.round(st.perSecond())).put("lost", st.lost())
        .put("duplicates", st.duplicates()).put("out_of_order", st.outOfOrder()).put("drain_s", Result.round(st.drainSeconds()))
        .put("pushes_late_10ms", st.late()).put("seq_gaps", conn[0]).put("disconnects", conn[1]).put("foreign", conn[2]);
    res.put("pushes_not_posted", st.dropped());
    res.line("pushes", String.format(Locale.ROOT, "%s posted (%s >10 ms behind schedule), %s answered 202, %s refused "
            + "(503 overloaded), %d failed, %s not posted (still queued behind their stream after the drain)%s",
        Result.n(st.pushes()), Result.n(st.late()), Result.n(st.accepted()), Result.n(st.refused()), st.failed(),
        Result.n(st.dropped()), lastFailure == null ? "" : " (last: " + lastFailure + ")"));
    res.line("pushes/s", Result.rate(st.accept().getTotalCount() / st.seconds())
        + " pushes/s answered 202 of those due in the measured window");
    res.line("delivered", Result.rate(st.perSecond()) + " deliveries/s received during the measured window");
    res.line("lost/dup/out-of-order", st.lost() + " / " + st.duplicates() + " / " + st.outOfOrder() + String.format(Locale.ROOT,
        "   (drain %.1f s; seq gaps %d, disconnects %d, foreign bodies %d)", st.drainSeconds(), conn[0], conn[1], conn[2]));
    res.latency("latency push->deliver", "latency", st.latency());
    res.latency("latency push->202", "accept", st.accept());
    streamBound(res, st);
    res.cpu(st.cpu0(), st.cpu1(), st.deliveredInCpuWindow(), "delivery");
    res.memory(pids.length > 0 ? pids[0] : -1);
    if (st.receivedInWindow() == 0) {
      res.fail("nothing was delivered in the measured window");
    }
    check(res, st);
  }

  /** The most pushes/s the streams can post at the step's median 202 time: near it, the generator is the limit. */
  private void streamBound(Result res, Step st) {
    if (st.accept().getTotalCount() == 0) {
      return;
    }
    double p50s = Math.max(1, st.accept().getValueAtPercentile(50)) / 1e6;
    double bound = streams.length / p50s;
    res.put("stream_bound_pushes_per_s", Result.round(bound));
    res.line("stream bound", String.format(Locale.ROOT, "%d streams / p50 push->202 = %s pushes/s at most%s", streams.length,
        Result.rate(bound), st.rate() > bound * 0.7 ? " (NEAR the offered rate: raise --streams)" : ""));
  }

  private static void check(Result res, Step st) {
    if (st.lost() > 0) {
      res.fail(st.lost() + " deliveries lost");
    }
    if (st.duplicates() > 0) {
      res.fail(st.duplicates() + " duplicates");
    }
    if (st.outOfOrder() > 0) {
      res.fail(st.outOfOrder() + " out of order");
    }
    if (st.failed() > 0) {
      res.fail(st.failed() + " pushes failed");
    }
    if (st.disconnects() > 0) {
      res.fail(st.disconnects() + " connections closed by the server");
    }
    if (st.dropped() > 0) {
      res.fail(st.dropped() + " pushes not posted within the drain (the offered rate was more than the cluster took)");
    }
  }

  /** {@link #phase}, repeated when the machine was noisy ({@link Phase#quiet}). */
  private Step quietPhase(double rate, double warmup, double seconds, double drainSeconds) {
    return Phase.quiet(rate, "pushes/s", warmup, w -> phase(rate, w, seconds, drainSeconds));
  }

  /** As direct's: push rate steps up by --factor until one fails (p99 over the limit or anything lost), then bisect. */
  private void findMax(Result res, double start, double warmup, double drain, String where, double cross) {
    RateSearch<Step> search = new RateSearch<>(a, start, 1);
    double limitMs = search.limitMs;
    res.put("step_s", search.stepSeconds).put("p99_limit_ms", limitMs);
    res.line("load", String.format(Locale.ROOT, "pushes over the push API of %s, each to %s of %s users (%.0f%% of deliveries "
            + "cross nodes); push-rate steps of %.0f s from %s pushes/s, x%.2f up until a step fails, then bisect; pass = "
            + "p99 < %.0f ms, nothing lost, refused, duplicated or reordered", where, Result.n(recipients), Result.n(users), cross,
        search.stepSeconds, Result.rate(start), search.factor, limitMs));
    Step last = null;
    while (search.going()) {
      Step st = quietPhase(search.rate, search.warmup(warmup), search.stepSeconds, drain);
      last = st;
      boolean pass = st.clean() && st.p99ms() < limitMs;
      search.show(row(st, pass ? "pass" : "FAIL"));
      search.record(st, pass);
    }
    res.line("steps", search.table(String.format(Locale.ROOT, "%n%10s %12s %9s %9s %9s %8s %8s %8s", "pushes/s",
        "deliveries/s", "p50 ms", "p99 ms", "max ms", "lost", "dup/ooo", "us/dlv")
        + "  (disconnects, not posted: after the verdict when not 0)" + "\n"));
    Step best = search.best();
    if (best != null) {
      res.put("max_push_rate", best.rate()).put("deliveries_per_s", Result.round(best.perSecond()));
      res.latency("latency at max rate", "latency", best.latency());
      res.latency("latency push->202 at max rate", "accept", best.accept());
      streamBound(res, best);
      res.cpu(best.cpu0(), best.cpu1(), best.deliveredInCpuWindow(), "delivery");
      res.line("max rate", Result.rate(best.rate()) + " pushes/s = " + Result.rate(best.perSecond())
          + " deliveries/s with p99 < " + Result.f(limitMs) + " ms and nothing lost" + search.bounds(" pushes/s"));
      res.put("budget_exhausted", search.outOfBudget());
    } else {
      res.put("max_push_rate", 0);
      res.line("max rate", "no step passed");
      res.fail("no rate passed");
    }
    if (last != null && (last.lost() > 0 || last.duplicates() > 0 || last.outOfOrder() > 0)) {
      // a step that lost or reordered is a correctness failure, not just the end of the search
      check(res, last);
    }
    res.memory(pids.length > 0 ? pids[0] : -1);
  }

  private static String row(Step st, String verdict) {
    return st.columns() + String.format(Locale.ROOT, " %8s %8.1f  %s", st.duplicates() + "/" + st.outOfOrder(),
        st.cpuMicrosPerDelivery(), verdict)
        + (st.disconnects() + st.dropped() > 0 ? " (disconnects " + st.disconnects() + ", not posted " + st.dropped() + ")" : "");
  }

  private void close() {
    loop.awaitQuietly(() -> {
      stopTimer();
      return hub.closeAll();
    }, 20_000);
    loop.close();
  }
}
