package dev.switchboard.bench;

import io.vertx.core.http.WebSocketClient;
import org.HdrHistogram.Histogram;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code idle}: opens N v1 connections (spread over several loopback source addresses), holds them,
 * and reports the connect rate and the server's memory per connection. Given several nodes
 * ({@code --ws-ports}, {@code --server-pids}: a cluster), connection i goes to node i mod nodes and
 * the servers' CPU and memory are summed.
 */
final class IdleRun {

  private final Args a;

  IdleRun(Args a) {
    this.a = a;
  }

  /**
   * Opens and closes {@code warm} connections (connection i to node i mod nodes) so the JVMs have
   * compiled the connect path before measuring.
   */
  static void warmUp(long[] ports, int warm, int window, int addresses) {
    try (Loop loop = new Loop()) {
      Hub hub = new Hub(loop.vertx, new Tracker(new Token(0), warm), 1, 50);
      List<WebSocketClient> clients = loop.call(() -> loop.wsClients(addresses, 30_000));
      WsUser[] us = loop.call(() -> hub.wsUsers("warm", warm));
      try {
        loop.await(() -> connectAll(hub, us, clients, ports, window, new String[1]), 120_000);
        loop.waitFor(() -> hub.synced >= hub.connected, 30_000);
        loop.await(() -> closeAll(us), 60_000);
      } catch (IllegalStateException e) {
        System.err.println("[bench] warm-up: " + e.getMessage());
      }
    }
    Loop.sleep(2000);
  }

  /**
   * Opens every user's socket, connection i to node i mod nodes, at most {@code window} handshakes in
   * flight. Warm-up and the measured run go through this one method (and {@link #closeAll}) so that
   * the JIT has seen, during warm-up, every function {@link Loop#windowed} calls: a new lambda in the
   * measured run made that hot loop megamorphic and C2 spent ~0.3 s recompiling it inside the window.
   */
  private static io.vertx.core.Future<Void> connectAll(Hub hub, WsUser[] us, List<WebSocketClient> clients,
      long[] ports, int window, String[] firstError) {
    return Loop.windowed(us.length, window, i -> us[i].connect(clients.get(i % clients.size()),
        (int) ports[i % ports.length], "d", 30_000)
        .onFailure(e -> {
          hub.connectFailed++;
          if (firstError[0] == null) {
            firstError[0] = String.valueOf(e.getMessage());
          }
        }));
  }

  private static io.vertx.core.Future<Void> closeAll(WsUser[] us) {
    return Loop.windowed(us.length, 1000, i -> us[i].close());
  }

  int run() {
    long[] ports = a.longs("ws-ports", new long[] {a.integer("ws-port", 8080)});
    long[] pids = a.longs("server-pids", new long[] {a.lng("server-pid", -1)});
    long[] pushPorts = a.longs("push-ports", new long[] {a.integer("push-port", 8081)});
    long[] pgPids = java.util.Arrays.stream(a.longs("pg-pid", new long[0])).filter(p -> p > 0).toArray();
    int nodes = ports.length;
    if (pids.length != nodes || (nodes > 1 && pushPorts.length != nodes)) {
      throw new IllegalArgumentException("--ws-ports, --push-ports and --server-pids must name the same number of nodes");
    }
    int n = a.integer("connections", 10_000);
    int addresses = a.integer("addresses", Math.max(4, (n + 19_999) / 20_000));
    int window = a.integer("window", 256);
    double hold = a.dbl("hold", 10);
    boolean gc = !a.has("no-gc");
    String jsonOut = a.str("json", null);
    Bench.checkFds(n + 200L, -1, "server");
    for (long p : pids) {
      Bench.checkFds(n / nodes + 200L, p, "server");
    }

    Result res = new Result("idle", nodes == 1 ? "switchboard" : nodes + "-node cluster", a.str("label", ""));
    res.put("nodes", nodes).put("connections", n).put("addresses", addresses).put("window", window).put("hold_s", hold);
    res.line("load", String.format(Locale.ROOT, "%s v1 connections from %d loopback source addresses (127.0.0.1..%d), "
        + "at most %d handshakes in flight, held %.0f s%s", Result.n(n), addresses, addresses, window, hold,
        nodes == 1 ? "" : String.format(Locale.ROOT, "; connection i to node i mod %d (server figures: all nodes summed)",
            nodes)));
    if (pgPids.length > 0) {
      res.note("server cpu includes the PostgreSQL the nodes use (thread group 'postgres'); RSS figures do not");
    }
    if (nodes > 1) {
      try (Loop loop = new Loop()) {
        if (!ClusterProbe.awaitFormed(loop, ports, pushPorts, 60_000)) {
          throw new IllegalStateException("the nodes did not form one cluster within 60 s");
        }
      }
    }

    // per node, as many as one node gets alone: every node's JVM compiles its own connect path (all
    // warm-up connections of a round are open at once before they close: a cluster's rounds stay
    // within 15,000 in all; a single node's are as large as the measured run, so the server's maps
    // and the JIT's profiles reach the measured size first)
    int warm = a.integer("warmup-connections", nodes == 1 ? n : Math.min(n, 15_000 / nodes)) * nodes;
    // Several rounds: after three rounds of 5,000 the JIT compilers of both JVMs still took ~45% of
    // their CPU in the measured window (3,400-5,200 connects/s); after four full-size rounds the
    // compilers are quiet and the rate is the server's and the generator's (docs/benchmarks.md).
    int rounds = a.integer("warmup-rounds", 4);
    if (warm > 0 && rounds > 0) {
      for (int round = 0; round < rounds; round++) {
        warmUp(ports, warm, window, addresses);
      }
      res.put("warmup_connections", (long) warm * rounds);
      res.line("warm-up", rounds + " x " + Result.n(warm) + " connections opened, synced and closed first (JIT warm-up; not measured)");
    }
    if (gc && !requestGc(pids)) {
      res.note("could not ask the server for a GC (jcmd); RSS figures include garbage");
      gc = false;
    }
    // The generator's own heap too: the warm-up rounds left ~20 KiB per connection of garbage in its
    // old generation, and G1 started a concurrent cycle over it inside the measured window (~0.5 s
    // of the generator's CPU, taken from the 2 cores the server runs on).
    System.gc();
    Loop.sleep(gc ? 1000 : 0);
    long rssBase = sum(pids, ProcStats::rssKib);
    long heapBase = gc ? sum(pids, ProcStats::heapUsedKib) : -1;
    long selfBase = ProcStats.rssKib(ProcStats.selfPid());
    ProcStats.Cpu cpu0 = ProcStats.Cpu.take(pids, pgPids);

    try (Loop loop = new Loop()) {
      Tracker tracker = new Tracker(new Token(0), n);
      Hub hub = new Hub(loop.vertx, tracker, 1, 50);
      List<WebSocketClient> clients = loop.call(() -> loop.wsClients(addresses, 30_000));
      WsUser[] us = loop.call(() -> hub.wsUsers("u", n));
      String[] firstError = new String[1];
      long t0 = System.nanoTime();
      try {
        loop.await(() -> connectAll(hub, us, clients, ports, window, firstError), Math.max(60_000, n * 5L));
      } catch (IllegalStateException e) {
        res.fail("connecting did not finish: " + e.getMessage());
      }
      long tConnected = System.nanoTime();
      loop.waitFor(() -> hub.synced >= hub.connected, 30_000);
      long tSynced = System.nanoTime();
      ProcStats.Cpu cpu1 = ProcStats.Cpu.take(pids, pgPids);

      long[] stats = loop.call(() -> new long[] {hub.connected, hub.connectFailed, hub.synced});
      Histogram lat = Tracker.newHistogram();
      Histogram ready = Tracker.newHistogram();
      long lastSynced = loop.call(() -> {
        long last = 0;
        for (WsUser u : us) {
          if (u.syncedAt > 0) {
            ready.recordValue(Math.max(0, (u.syncedAt - u.connectStarted) / 1000));
            last = Math.max(last, u.syncedAt);
          }
        }
        return last;
      });
      long[] at = loop.call(() -> {
        long[] times = new long[n];
        int k = 0;
        for (WsUser u : us) {
          if (u.connectedAt > 0) {
            lat.recordValue(Math.max(0, (u.connectedAt - u.connectStarted) / 1000));
            times[k++] = u.connectedAt;
          }
        }
        return Arrays.copyOf(times, k);
      });
      Arrays.sort(at);
      int peak = 0;
      for (int i = 0, j = 0; i < at.length; i++) {
        while (at[i] - at[j] >= 1_000_000_000L) {
          j++;
        }
        peak = Math.max(peak, i - j + 1);
      }
      double connectSecs = at.length == 0 ? Double.NaN : (at[at.length - 1] - t0) / 1e9;
      double rate = at.length / connectSecs;
      res.put("connected", stats[0]).put("connect_failed", stats[1]).put("synced", stats[2])
          .put("connect_s", Result.round(connectSecs)).put("connects_per_s", Result.round(rate))
          .put("peak_connects_per_s", peak).put("synced_s", Result.round((tSynced - t0) / 1e9));
      if (tSynced - t0 > 29_000_000_000L) {
        res.note("not every session synced within 30 s of the connects");
      }
      res.line("connected", String.format(Locale.ROOT, "%s of %s in %.2f s = %s connects/s (peak 1 s window: %s/s); "
          + "failed %d%s", Result.n(stats[0]), Result.n(n), connectSecs, Result.rate(rate), Result.n(peak), stats[1],
          firstError[0] == null ? "" : " (first: " + firstError[0] + ")"));
      double readySecs = lastSynced == 0 ? Double.NaN : (lastSynced - t0) / 1e9;
      double readyRate = stats[2] / readySecs;
      res.put("ready_s", Result.round(readySecs)).put("ready_per_s", Result.round(readyRate));
      res.line("synced", String.format(Locale.ROOT, "%s sessions synced (ready: directory joined, backlog read), the last "
          + "%.2f s after the first connect = %s sessions ready/s", Result.n(stats[2]), readySecs, Result.rate(readyRate)));
      res.latency("handshake latency", "handshake", lat);
      res.latency("connect -> synced", "ready", ready);
      res.cpu(cpu0, cpu1, stats[0], "connect");

      Loop.sleep((long) (hold * 1000));
      long dropped = loop.call(() -> hub.closedUnexpectedly);
      long hwm = sum(pids, ProcStats::peakRssKib);
      long rssHeld = sum(pids, ProcStats::rssKib);
      if (gc) {
        requestGc(pids);
        Loop.sleep(1000);
      }
      long rssAfterGc = sum(pids, ProcStats::rssKib);
      long heapAfterGc = gc ? sum(pids, ProcStats::heapUsedKib) : -1;
      long selfRss = ProcStats.rssKib(ProcStats.selfPid());
      long c = Math.max(1, stats[0] - dropped);
      double perConn = (rssAfterGc - rssBase) / (double) c;
      double perConnHeld = (rssHeld - rssBase) / (double) c;
      res.put("dropped_during_hold", dropped).put("server_rss_base_kib", rssBase).put("server_rss_held_kib", rssHeld)
          .put("server_rss_after_gc_kib", rssAfterGc).put("server_peak_rss_kib", hwm)
          .put("kib_per_conn", Result.round(perConn)).put("kib_per_conn_no_gc", Result.round(perConnHeld))
          .put("generator_kib_per_conn", Result.round((selfRss - selfBase) / (double) c));
      res.line("held", String.format(Locale.ROOT, "%.0f s; %d connections closed by the server meanwhile", hold, dropped));
      res.line("server RSS", String.format(Locale.ROOT, "before %s MiB, holding %s MiB, after GC %s MiB, peak %s MiB",
          Result.f(rssBase / 1024.0), Result.f(rssHeld / 1024.0), Result.f(rssAfterGc / 1024.0), Result.f(hwm / 1024.0)));
      res.line("server KiB/connection", String.format(Locale.ROOT, "%s after GC (%s without GC)%s", Result.f(perConn),
          Result.f(perConnHeld), gc ? "" : " [no GC possible]"));
      if (heapBase > 0 && heapAfterGc > 0) {
        double heapPerConn = (heapAfterGc - heapBase) / (double) c;
        res.put("server_heap_base_kib", heapBase).put("server_heap_after_gc_kib", heapAfterGc)
            .put("heap_kib_per_conn", Result.round(heapPerConn));
        res.line("server live heap", String.format(Locale.ROOT, "%s MiB before, %s MiB with the connections (after a full "
                + "GC) = %s KiB/connection; the rest of the RSS growth is heap the JVM keeps committed, thread stacks, "
                + "direct buffers", Result.f(heapBase / 1024.0), Result.f(heapAfterGc / 1024.0), Result.f(heapPerConn)));
      }
      res.line("generator KiB/connection", Result.f((selfRss - selfBase) / (double) c));
      res.line("targets", String.format(Locale.ROOT, ">= 10k connects/s: %s; < 10 KiB/connection: %s",
          rate >= 10_000 ? "met" : "MISSED", perConn < 10 ? "met" : "MISSED"));
      if (stats[1] > 0 || stats[0] < n) {
        res.fail((n - stats[0]) + " connections failed");
      }
      if (stats[2] < stats[0]) {
        res.fail((stats[0] - stats[2]) + " sessions never synced");
      }
      if (dropped > 0) {
        res.fail(dropped + " connections dropped while idle");
      }
      long tc = System.nanoTime();
      try {
        loop.await(() -> closeAll(us), 60_000);
      } catch (IllegalStateException e) {
        res.note("closing: " + e.getMessage());
      }
      res.line("closed", String.format(Locale.ROOT, "all in %.2f s", (System.nanoTime() - tc) / 1e9));
    }
    res.print(System.out);
    res.save(jsonOut);
    return res.passed() ? 0 : 1;
  }

  private static boolean requestGc(long[] pids) {
    boolean ok = true;
    for (long p : pids) {
      ok &= ProcStats.requestGc(p);
    }
    return ok;
  }

  /** A /proc figure summed over the nodes; -1 when any node's is unreadable. */
  private static long sum(long[] pids, java.util.function.LongUnaryOperator figure) {
    long total = 0;
    for (long p : pids) {
      long v = figure.applyAsLong(p);
      if (v < 0) {
        return -1;
      }
      total += v;
    }
    return total;
  }
}
