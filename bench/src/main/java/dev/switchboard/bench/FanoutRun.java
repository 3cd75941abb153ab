package dev.switchboard.bench;

import io.vertx.core.http.WebSocketClient;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code fanout}: N online users; either single pushes to all of them, one after the other, timed
 * from the POST to the last delivery ({@code --pushes K}), or an open-loop stream of pushes
 * ({@code --rate P} pushes/s, each to {@code --recipients R} of the users, in turn).
 */
final class FanoutRun {

  private final Args a;

  FanoutRun(Args a) {
    this.a = a;
  }

  int run() {
    long pid = a.lng("server-pid", -1);
    int wsPort = a.integer("ws-port", 8080);
    int pushPort = a.integer("push-port", 8081);
    int users = a.integer("users", 1000);
    int size = a.integer("size", 100);
    int window = a.integer("window", 200);
    int ackEvery = a.integer("ack-every", 100);
    boolean rateMode = a.has("rate");
    String jsonOut = a.str("json", null);
    Bench.checkFds(users + 100L, pid, "server");

    Result res = new Result(rateMode ? "fanout --rate" : "fanout", "switchboard", a.str("label", ""));
    res.put("users", users).put("body_bytes", size);
    try (Loop loop = new Loop()) {
      Token token = new Token(size);
      Tracker tracker = new Tracker(token, users);
      Hub hub = new Hub(loop.vertx, tracker, 1, ackEvery);
      List<WebSocketClient> clients = loop.call(() -> loop.wsClients(1 + users / 20_000, 30_000));
      WsUser[] us = loop.call(() -> hub.wsUsers("u", users));
      long tc = System.nanoTime();
      try {
        loop.await(() -> Loop.windowed(users, window, i -> us[i].connect(clients.get(i % clients.size()), wsPort, "d", 30_000)
            .onFailure(e -> hub.connectFailed++)), 120_000);
      } catch (IllegalStateException e) {
        res.fail("connecting: " + e.getMessage());
      }
      boolean ok = loop.waitFor(() -> hub.synced + hub.connectFailed >= users, 30_000) && loop.call(() -> hub.synced) == users;
      res.line("connect", String.format(Locale.ROOT, "%d of %d users online in %.2f s", loop.call(() -> hub.synced), users,
          (System.nanoTime() - tc) / 1e9));
      if (!ok) {
        res.fail("not all users connected");
      } else {
        loop.call(hub::startAckSweeper);
        Pusher pusher = loop.call(() -> new Pusher(loop.vertx, pushPort, a.integer("http-conns", 4)));
        if (rateMode) {
          rate(res, loop, hub, pusher, users, pid);
        } else {
          bursts(res, loop, hub, pusher, users, pid);
        }
      }
      try {
        loop.await(() -> Loop.windowed(users, 1000, i -> us[i].close()), 30_000);
      } catch (IllegalStateException e) {
        // best effort
      }
    } catch (IllegalStateException e) {
      res.fail(e.getMessage());
    }
    res.print(System.out);
    res.save(jsonOut);
    return res.passed() ? 0 : 1;
  }

  /** K pushes to all users, one at a time: each timed from POST to the last of its N deliveries. */
  private void bursts(Result res, Loop loop, Hub hub, Pusher pusher, int users, long pid) {
    int pushes = a.integer("pushes", 20);
    // 100: after 10 the JIT compilers were still busy, and the first measured pushes were the slowest
    int warm = a.integer("warmup-pushes", 100);
    double pause = a.dbl("pause", 0.3);
    Tracker tracker = hub.tracker;
    int[] all = new int[users];
    for (int i = 0; i < users; i++) {
      all[i] = i;
    }
    String to = Pusher.recipients(all);
    res.put("pushes", pushes).put("warmup_pushes", warm);
    res.line("load", String.format(Locale.ROOT, "%d single pushes (after %d warm-up pushes), each to all %s online users, "
        + "one after the other (%.1f s apart), body %d bytes", pushes, warm, Result.n(users), pause, a.integer("size", 100)));
    loop.run(() -> tracker.resetHistograms(Long.MIN_VALUE, Long.MIN_VALUE));
    List<Double> rates = new ArrayList<>();
    List<String> rows = new ArrayList<>();
    long okPushes = 0;
    ProcStats.Cpu cpu0 = null;
    long delivered0 = 0;
    for (int k = 0; k < warm + pushes; k++) {
      boolean measured = k >= warm;
      if (k == warm) {
        cpu0 = ProcStats.Cpu.take(pid);
        delivered0 = loop.call(() -> tracker.delivered);
      }
      // counted from the pushes taken so far: one refused (503 overloaded) adds no deliveries
      long[] before = loop.call(() -> new long[] {pusher.ok, pusher.refused});
      long want = (long) users * (before[0] + 1);
      int q = k;
      long start = loop.call(() -> {
        long t = Token.now();
        if (q == warm) {
          tracker.resetHistograms(t, Long.MAX_VALUE);
        }
        pusher.push(to, tracker.token.make(0, q, t)).onSuccess(accepted -> {
          if (accepted) {
            tracker.onAccepted(t);
          }
        });
        return t;
      });
      boolean done = loop.waitFor(() -> tracker.delivered >= want || pusher.failed > 0 || pusher.refused > before[1],
          60_000);
      long[] st = loop.call(() -> new long[] {tracker.delivered, tracker.lastDeliveryNanos, pusher.ok, pusher.refused});
      boolean refused = st[3] > before[1];
      okPushes = st[2];
      double secs = (st[1] - start) / 1e9;
      double r = users / secs;
      if (done && !refused && st[0] >= want && measured) {
        rates.add(r);
      }
      String row = String.format(Locale.ROOT, "push %d%s: %s deliveries, last after %.1f ms = %s deliveries/s%s", k + 1,
          measured ? "" : " (warm-up)", Result.n(st[0] - (long) users * before[0]), secs * 1000, Result.rate(r),
          refused ? " (REFUSED: 503 overloaded)" : done ? "" : " (INCOMPLETE)");
      if (measured) {
        rows.add(row);
      }
      System.out.println("  " + row);
      Loop.sleep((long) (pause * 1000));
    }
    loop.waitFor(() -> hub.unanswered() <= 0, 2000);
    ProcStats.Cpu cpu1 = ProcStats.Cpu.take(pid);
    long[] st = loop.call(() -> new long[] {tracker.delivered, tracker.duplicates, tracker.outOfOrder, hub.seqGaps,
        hub.closedUnexpectedly, pusher.failed});
    long expected = okPushes * users;
    long lost = Math.max(0, expected - st[0]);
    rates.sort(Double::compare);
    double median = rates.isEmpty() ? Double.NaN : rates.get(rates.size() / 2);
    double best = rates.isEmpty() ? Double.NaN : rates.get(rates.size() - 1);
    for (String row : rows) {
      res.line("  ", row);
    }
    res.put("deliveries_per_s_median", Result.round(median)).put("deliveries_per_s_best", Result.round(best))
        .put("delivered", st[0]).put("lost", lost).put("duplicates", st[1]).put("out_of_order", st[2])
        .put("pushes_failed", st[5]);
    res.line("deliveries/s", "median " + Result.rate(median) + ", best " + Result.rate(best)
        + "  (N / time from POST to the last delivery)");
    res.line("lost/dup/out-of-order", lost + " / " + st[1] + " / " + st[2] + String.format(Locale.ROOT,
        "   (pushes failed %d%s, seq gaps %d, disconnects %d)", st[5],
        pusher.lastFailure == null ? "" : ": " + pusher.lastFailure, st[3], st[4]));
    Histogram lat = loop.call(() -> tracker.latency.copy());
    Histogram acc = loop.call(() -> tracker.acceptLatency.copy());
    res.latency("latency POST->deliver", "latency", lat);
    res.latency("latency POST->202", "accept", acc);
    res.cpu(cpu0 == null ? cpu1 : cpu0, cpu1, st[0] - delivered0, "delivery");
    res.memory(pid);
    res.line("target >= 300k deliveries/s", median >= 300_000 ? "met" : "MISSED");
    check(res, lost, st[1], st[2], st[5]);
  }

  /** Open loop: P pushes/s for D s, each to R users in turn; deliveries/s and latency from the intended time. */
  private void rate(Result res, Loop loop, Hub hub, Pusher pusher, int users, long pid) {
    double rate = a.dbl("rate", 10);
    double duration = a.dbl("duration", 15);
    // 30 s: with 3 s the JIT compilers still took a fifth of the server's CPU in the measured window
    double warmup = a.dbl("warmup", 30);
    double drain = a.dbl("drain", 10);
    int recipients = Math.min(users, a.integer("recipients", users));
    Tracker tracker = hub.tracker;
    res.put("push_rate", rate).put("recipients", recipients).put("duration_s", duration);
    res.line("load", String.format(Locale.ROOT, "%s pushes/s for %.0f s (after %.0f s warm-up), each to %s of %s online "
            + "users in turn = %s deliveries/s offered", Result.rate(rate), duration, warmup, Result.n(recipients),
        Result.n(users), Result.rate(rate * recipients)));
    long[] expected = new long[users];
    Map<Integer, String> toCache = new HashMap<>();
    long warmNs = (long) (warmup * 1e9);
    long measureNs = (long) (duration * 1e9);
    long total = (long) Math.ceil(rate * (warmup + duration));
    double period = 1e9 / rate;
    long[] g = {0};
    long[] timer = {-1};
    long t0 = loop.call(() -> {
      long start = Token.now() + 2_000_000L;
      tracker.resetHistograms(start + warmNs, start + warmNs + measureNs);
      timer[0] = loop.vertx.setPeriodic(1, id -> {
        long now = Token.now();
        while (g[0] < total) {
          long intended = start + (long) (g[0] * period);
          if (intended > now) {
            break;
          }
          long q = g[0]++;
          int first = (int) ((q * recipients) % users);
          String to = toCache.computeIfAbsent(first, f -> {
            int[] ids = new int[recipients];
            for (int j = 0; j < recipients; j++) {
              ids[j] = (f + j) % users;
            }
            return Pusher.recipients(ids);
          });
          hub.sent++;
          pusher.push(to, tracker.token.make(0, q, intended)).onSuccess(accepted -> {
            if (accepted) {
              hub.accepted++;
              tracker.onAccepted(intended);
              for (int j = 0; j < recipients; j++) {
                expected[(first + j) % users]++;
              }
            } else {
              hub.rejected++;
            }
          });
        }
        if (g[0] >= total) {
          loop.vertx.cancelTimer(timer[0]);
        }
      });
      return start;
    });
    Loop.sleepUntil(t0 + warmNs);
    ProcStats.Cpu cpu0 = ProcStats.Cpu.take(pid);
    long d0 = loop.call(() -> tracker.delivered);
    Loop.sleepUntil(t0 + warmNs + measureNs);
    long d1 = loop.call(() -> tracker.delivered);
    ProcStats.Cpu cpu1 = ProcStats.Cpu.take(pid);
    loop.waitFor(() -> g[0] >= total && hub.unanswered() <= 0, 30_000);
    long drainStart = System.nanoTime();
    loop.waitFor(() -> {
      long e = 0;
      for (long x : expected) {
        e += x;
      }
      return tracker.delivered >= e;
    }, (long) (drain * 1000));
    double drained = (System.nanoTime() - drainStart) / 1e9;
    long[] st = loop.call(() -> {
      long lost = 0;
      for (int r = 0; r < users; r++) {
        lost += Math.max(0, expected[r] - tracker.distinct(r, 0));
      }
      return new long[] {tracker.delivered, lost, tracker.duplicates, tracker.outOfOrder, hub.sent, hub.accepted,
          pusher.failed, tracker.receivedInWindow, hub.seqGaps, hub.closedUnexpectedly, pusher.refused};
    });
    double achieved = st[7] / duration;
    res.put("pushes", st[4]).put("pushes_ok", st[5]).put("pushes_failed", st[6]).put("pushes_refused", st[10])
        .put("delivered", st[0])
        .put("lost", st[1]).put("duplicates", st[2]).put("reordered", st[3])
        .put("deliveries_per_s", Result.round(achieved)).put("drain_s", Result.round(drained));
    res.line("pushes", String.format(Locale.ROOT, "%s sent, %s answered 202, %s refused (503 overloaded: the server "
            + "protecting itself, nothing stored), %d failed%s", Result.n(st[4]), Result.n(st[5]), Result.n(st[10]), st[6],
        pusher.lastFailure == null ? "" : " (last: " + pusher.lastFailure + ")"));
    res.line("delivered", Result.n(st[0]) + "  =  " + Result.rate(achieved) + " deliveries/s received during the measured window");
    res.line("lost/dup/reordered", st[1] + " / " + st[2] + " / " + st[3] + String.format(Locale.ROOT,
        "   (drain %.1f s; seq gaps %d, disconnects %d; concurrent pushes carry no order promise)", drained, st[8], st[9]));
    res.latency("latency send->deliver", "latency", loop.call(() -> tracker.latency.copy()));
    res.latency("latency send->202", "accept", loop.call(() -> tracker.acceptLatency.copy()));
    res.cpu(cpu0, cpu1, d1 - d0, "delivery");
    res.memory(pid);
    res.line("target >= 300k deliveries/s", achieved >= 300_000 ? "met" : "MISSED");
    check(res, st[1], st[2], 0, st[6]);
  }

  private static void check(Result res, long lost, long dups, long ooo, long failedPushes) {
    if (lost > 0) {
      res.fail(lost + " deliveries lost");
    }
    if (dups > 0) {
      res.fail(dups + " duplicates");
    }
    if (ooo > 0) {
      res.fail(ooo + " out of order");
    }
    if (failedPushes > 0) {
      res.fail(failedPushes + " pushes failed");
    }
  }
}
