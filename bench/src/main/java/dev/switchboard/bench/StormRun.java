package dev.switchboard.bench;

import io.vertx.core.http.WebSocketClient;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code storm}: a node of a cluster dies and its users come back on the others. N users online,
 * spread evenly over the nodes; one push from each node to all of them checks the cluster routes;
 * then the generator kills one node with SIGKILL and at once pushes one message (through a live
 * node's push API) to every user of the dead node, while the user directory still names the dead
 * node. Those users see their sockets close and reconnect as a real client does: with back-off and
 * jitter like {@code webroot/js/switchboard.js}, to the surviving nodes in turn, resuming after the
 * last seq they processed ({@code since}). Measured: time from the kill until all reconnected,
 * resynced and received that message; reconnects per second; loss and duplicates. A last push to
 * all N users checks that the cluster delivers to everyone again.
 */
final class StormRun {

  private final Args a;

  StormRun(Args a) {
    this.a = a;
  }

  int run() {
    long[] wsPorts = a.longs("ws-ports", new long[] {a.integer("ws-port", 8080)});
    long[] pushPorts = a.longs("push-ports", new long[] {a.integer("push-port", 8081)});
    long[] pids = a.longs("server-pids", new long[] {a.lng("server-pid", -1)});
    long[] pgPids = java.util.Arrays.stream(a.longs("pg-pid", new long[0])).filter(p -> p > 0).toArray();
    int nodes = wsPorts.length;
    if (nodes < 2 || pushPorts.length != nodes || pids.length != nodes) {
      throw new IllegalArgumentException("storm needs --ws-ports, --push-ports and --server-pids of at least 2 nodes, "
          + "the same number of each");
    }
    int n = a.integer("connections", 6000);
    int kill = a.integer("kill-node", nodes - 1);
    if (kill < 0 || kill >= nodes) {
      throw new IllegalArgumentException("--kill-node must be 0.." + (nodes - 1));
    }
    int window = a.integer("window", 256);
    // as idle: several source addresses, or the kernel's search for a free ephemeral port of one
    // address (with ~15,000 in use or in TIME_WAIT) costs the generator more than the server's work
    int addresses = a.integer("addresses", Math.max(4, (n + 19_999) / 20_000));
    long minBackoff = a.lng("backoff-ms", 500);
    long maxBackoff = a.lng("max-backoff-ms", 30_000);
    double recoverLimit = a.dbl("recover-timeout", 120);
    int size = a.integer("size", 100);
    String jsonOut = a.str("json", null);
    Bench.checkFds(n + 200L, -1, "server");
    for (long pid : pids) {
      Bench.checkFds(n / nodes * 2L + 200, pid, "server (pid " + pid + ")");
    }
    int[] survivors = new int[nodes - 1];
    for (int j = 0, k = 0; j < nodes; j++) {
      if (j != kill) {
        survivors[k++] = j;
      }
    }
    long[] survivorPids = new long[survivors.length];
    for (int k = 0; k < survivors.length; k++) {
      survivorPids[k] = pids[survivors[k]];
    }

    Result res = new Result("storm", nodes + "-node cluster", a.str("label", ""));
    res.put("nodes", nodes).put("connections", n).put("killed_node", kill).put("backoff_ms", minBackoff)
        .put("max_backoff_ms", maxBackoff);
    res.line("load", String.format(Locale.ROOT, "%s v1 users on %d nodes (user i on node i mod %d, %d handshakes in "
            + "flight); node %d (pid %d) killed with SIGKILL; its users reconnect to the other nodes in turn, resuming "
            + "after their last seq, %s", Result.n(n), nodes, nodes, window, kill + 1, pids[kill], minBackoff == 0
            ? "at once (no back-off)"
            : String.format(Locale.ROOT, "first after %d-%d ms (equal jitter, doubling up to %d ms, as the JS client)",
                minBackoff / 2, minBackoff, maxBackoff)));

    try (Loop probe = new Loop()) {
      if (!ClusterProbe.awaitFormed(probe, wsPorts, pushPorts, 60_000)) {
        res.fail("the nodes did not form one cluster within 60 s (a probe user was not present on every node)");
        res.print(System.out);
        res.save(jsonOut);
        return 1;
      }
    }
    // a cluster that has been serving for a while has compiled its connect path; so should this one
    int warm = a.integer("warmup-connections", Math.min(n / nodes, 2000)) * nodes;
    if (warm > 0) {
      IdleRun.warmUp(wsPorts, warm, window, addresses);
      res.put("warmup_connections", warm);
      res.line("warm-up", Result.n(warm) + " connections (spread over the nodes) opened, synced and closed first");
    }

    try (Loop loop = new Loop()) {
      Token token = new Token(size);
      Tracker tracker = new Tracker(token, n);
      Hub hub = new Hub(loop.vertx, tracker, 1, 50);
      List<WebSocketClient> clients = loop.call(() -> loop.wsClients(addresses, 30_000));
      Pusher[] pushers = new Pusher[nodes];
      WsUser[] us = new WsUser[n];
      int[] home = new int[n];
      loop.run(() -> {
        for (int j = 0; j < nodes; j++) {
          pushers[j] = new Pusher(loop.vertx, (int) pushPorts[j], 2);
        }
        for (int i = 0; i < n; i++) {
          us[i] = new WsUser(hub, i, "u" + i);
          home[i] = i % nodes;
        }
        hub.conns = us;
        hub.startAckSweeper();
      });

      // 1. everyone online, spread evenly over the nodes
      long tc = System.nanoTime();
      try {
        loop.await(() -> Loop.windowed(n, window, i -> us[i].connect(clients.get(i % clients.size()),
            (int) wsPorts[home[i]], "d", 30_000).onFailure(e -> hub.connectFailed++)), Math.max(60_000, n * 10L));
      } catch (IllegalStateException e) {
        res.fail("connecting: " + e.getMessage());
      }
      boolean online = loop.waitFor(() -> hub.synced + hub.connectFailed >= n, 30_000) && loop.call(() -> hub.synced) == n;
      res.line("online", String.format(Locale.ROOT, "%s of %s users synced in %.2f s (%d connect failures)",
          Result.n(loop.call(() -> hub.synced)), Result.n(n), (System.nanoTime() - tc) / 1e9, loop.call(() -> hub.connectFailed)));
      if (!online) {
        res.fail("not all users came online");
        return finish(res, loop, us, n, jsonOut);
      }

      // 2. the cluster routes: one push from each node to all N users
      int[] all = new int[n];
      for (int i = 0; i < n; i++) {
        all[i] = i;
      }
      String toAll = Pusher.recipients(all);
      long tp = System.nanoTime();
      long[] answeredAt = new long[nodes];
      loop.run(() -> {
        for (int j = 0; j < nodes; j++) {
          int node = j;
          pushers[j].push(toAll, token.make(j, 0, Token.now())).onComplete(ar -> answeredAt[node] = System.nanoTime());
        }
      });
      boolean routed = loop.waitFor(() -> tracker.delivered >= (long) nodes * n, 60_000);
      loop.waitFor(() -> java.util.Arrays.stream(answeredAt).allMatch(t -> t > 0), 15_000);
      long[] pre = loop.call(() -> new long[] {tracker.delivered, pushersFailed(pushers)});
      String preFailure = pre[1] == 0 ? "" : loop.call(() -> ", " + pre[1] + " pushes answered with an error: "
          + lastFailure(pushers));
      res.put("pre_pushes_failed", pre[1]);
      String answers = loop.call(() -> {
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < nodes; j++) {
          sb.append(j == 0 ? "" : ", ").append(answeredAt[j] == 0 ? "-" : Result.f((answeredAt[j] - tp) / 1e9));
        }
        return sb.toString();
      });
      res.line("before the kill", String.format(Locale.ROOT, "%d pushes at once (one from each node, each to all %s users): "
              + "%s of %s delivered in %.2f s; answered after %s s%s", nodes, Result.n(n), Result.n(pre[0]),
          Result.n((long) nodes * n), (System.nanoTime() - tp) / 1e9, answers, preFailure));
      if (!routed) {
        res.fail("the pushes before the kill did not reach everyone");
        return finish(res, loop, us, n, jsonOut);
      }

      // 3. the storm
      int stormSender = nodes;
      Storm storm = new Storm(loop, hub, us, clients, wsPorts, survivors, home, kill, minBackoff, maxBackoff, stormSender);
      int victims = storm.victims.length;
      String toVictims = Pusher.recipients(storm.victims);
      int pushVia = survivors[0];
      loop.run(storm::arm);
      Loop.sleep(500); // let the acks of the checks settle
      ProcStats.Cpu cpu0 = ProcStats.Cpu.take(survivorPids, pgPids);
      ProcStats.Cpu[] nodeCpu0 = new ProcStats.Cpu[survivors.length];
      for (int k = 0; k < survivors.length; k++) {
        nodeCpu0[k] = ProcStats.Cpu.take(survivorPids[k]);
      }
      long killToken = Token.now();
      java.time.Instant killedAt = java.time.Instant.now();
      long tKill = System.nanoTime();
      boolean killed = ProcessHandle.of(pids[kill]).map(ProcessHandle::destroyForcibly).orElse(false);
      long[] exitedAt = {0};
      Thread watch = new Thread(() -> {
        while (!ProcStats.exited(pids[kill]) && System.nanoTime() - tKill < 10_000_000_000L) {
          try {
            Thread.sleep(2);
          } catch (InterruptedException e) {
            return;
          }
        }
        exitedAt[0] = System.nanoTime();
      }, "bench-kill-watch");
      watch.setDaemon(true);
      watch.start();
      loop.run(() -> storm.push(pushers[pushVia], toVictims, token.make(stormSender, 0, killToken),
          "storm-" + token.run, 1));
      if (!killed) {
        res.fail("could not kill node " + (kill + 1) + " (pid " + pids[kill] + ")");
        return finish(res, loop, us, n, jsonOut);
      }
      boolean recovered = loop.waitFor(storm::recovered, (long) (recoverLimit * 1000));
      long tRecovered = System.nanoTime();
      ProcStats.Cpu cpu1 = ProcStats.Cpu.take(survivorPids, pgPids);
      ProcStats.Cpu[] nodeCpu1 = new ProcStats.Cpu[survivors.length];
      for (int k = 0; k < survivors.length; k++) {
        nodeCpu1[k] = ProcStats.Cpu.take(survivorPids[k]);
      }
      Loop.sleep(1000); // a second for late duplicates to show
      try {
        watch.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      double exitS = exitedAt[0] > 0 ? (exitedAt[0] - tKill) / 1e9 : Double.NaN;
      res.put("process_exit_s", Result.round(exitS));
      res.put("killed_at", killedAt.toString());
      res.line("killed process", String.format(Locale.ROOT, "SIGKILL at %s (UTC, to match the server logs); the process "
          + "was gone (or a zombie) %.0f ms later", killedAt.toString().substring(11, 23), exitS * 1000));
      loop.call(() -> {
        storm.report(res, tKill, pushVia, recovered, recoverLimit);
        return null;
      });
      res.cpu(cpu0, cpu1, victims, "reconnect");
      res.note("server cpu: the surviving nodes and the PostgreSQL they share (its processes are the thread group "
          + "'postgres'), from just before the kill until the last user received its message");
      for (int k = 0; k < survivors.length; k++) {
        double secs = nodeCpu1[k].server() - nodeCpu0[k].server();
        double wall = (nodeCpu1[k].nanos() - nodeCpu0[k].nanos()) / 1e9;
        res.put("node" + (survivors[k] + 1) + "_cpu_s", Result.round(secs));
        res.line("  node " + (survivors[k] + 1) + " cpu", String.format(Locale.ROOT, "%.2f s over %.1f s (%.0f%% of one "
            + "core): %s", secs, wall, 100 * secs / wall, ProcStats.Cpu.topGroups(nodeCpu0[k], nodeCpu1[k], 4)));
      }
      if (pgPids.length > 0) {
        double pg = cpu1.groups().getOrDefault("postgres", 0.0) - cpu0.groups().getOrDefault("postgres", 0.0);
        double wall = (cpu1.nanos() - cpu0.nanos()) / 1e9;
        res.put("postgres_cpu_s", Result.round(pg));
        res.line("  postgres cpu", String.format(Locale.ROOT, "%.2f s over %.1f s (%.0f%% of one core)", pg, wall,
            100 * pg / wall));
      }
      res.put("recover_window_s", Result.round((tRecovered - tKill) / 1e9));

      // 4. everyone receives again: one more push, through a surviving node, to all N users
      int finalSender = nodes + 1;
      long tf = System.nanoTime();
      loop.run(() -> pushers[pushVia].push(toAll, token.make(finalSender, 0, Token.now())));
      boolean again = loop.waitFor(() -> storm.countReceived(finalSender) >= n, 60_000);
      long[] fin = loop.call(() -> new long[] {storm.countReceived(finalSender), tracker.duplicates, hub.seqGaps,
          hub.gapFrames, tracker.foreign, pushersFailed(pushers)});
      res.put("final_received", fin[0]).put("final_lost", n - fin[0]).put("duplicates", fin[1]).put("seq_gaps", fin[2])
          .put("gap_frames", fin[3]).put("pushes_failed", fin[5]);
      res.line("after the storm", String.format(Locale.ROOT, "one push to all %s users through node %d: %s received in "
          + "%.2f s", Result.n(n), pushVia + 1, Result.n(fin[0]), (System.nanoTime() - tf) / 1e9));
      res.line("duplicates / seq gaps / gap frames", String.format(Locale.ROOT, "%d / %d / %d  (foreign bodies %d, "
          + "failed pushes %d)", fin[1], fin[2], fin[3], fin[4], fin[5]));
      if (!again) {
        res.fail((n - fin[0]) + " users did not receive the push after the storm");
      }
      if (fin[1] > 0) {
        res.fail(fin[1] + " duplicates");
      }
      if (fin[2] > 0 || fin[3] > 0) {
        res.fail("seq gaps or gap frames");
      }
      return finish(res, loop, us, n, jsonOut);
    } catch (IllegalStateException e) {
      res.fail(e.getMessage());
      res.print(System.out);
      res.save(jsonOut);
      return 1;
    }
  }

  private static String lastFailure(Pusher[] pushers) {
    StringBuilder sb = new StringBuilder();
    for (int j = 0; j < pushers.length; j++) {
      if (pushers[j].lastFailure != null) {
        sb.append(sb.length() == 0 ? "" : "; ").append("node ").append(j + 1).append(": ").append(pushers[j].lastFailure);
      }
    }
    return sb.toString();
  }

  private static long pushersFailed(Pusher[] pushers) {
    long f = 0;
    for (Pusher p : pushers) {
      f += p.failed;
    }
    return f;
  }

  private static int finish(Result res, Loop loop, WsUser[] us, int n, String jsonOut) {
    try {
      loop.await(() -> Loop.windowed(n, 1000, i -> us[i].close()), 30_000);
    } catch (IllegalStateException e) {
      res.note("closing: " + e.getMessage());
    }
    res.print(System.out);
    res.save(jsonOut);
    return res.passed() ? 0 : 1;
  }

  /**
   * The users of the killed node and what happened to each, from the kill on. Lives on the loop:
   * every method runs there.
   */
  private static final class Storm {

    final Loop loop;
    final Hub hub;
    final WsUser[] us;
    final List<WebSocketClient> clients;
    final long[] wsPorts;
    final int[] survivors;
    final long minBackoff;
    final long maxBackoff;
    final int[] victims;

    final long[] droppedAt;
    final long[] firstAttemptAt;
    final long[] reconnectedAt;
    final long[] receivedAt;     // the storm message
    final int[] attempts;
    final int[] streak;          // failed attempts since the last good sync: drives the back-off
    final int[] rr;              // the next survivor this user tries
    final int[] reconnectNode;
    final boolean[] victim;
    final boolean[][] got;       // got[sender - stormSender][user]: storm and final pushes
    long failures;
    String lastFailure;
    long otherDrops;             // users of surviving nodes that lost their socket
    int pushAttempts;
    long pushAcceptedAt;
    String pushFailure;
    final int stormSender;

    Storm(Loop loop, Hub hub, WsUser[] us, List<WebSocketClient> clients, long[] wsPorts, int[] survivors, int[] home,
          int kill, long minBackoff, long maxBackoff, int stormSender) {
      this.loop = loop;
      this.stormSender = stormSender;
      this.hub = hub;
      this.us = us;
      this.clients = clients;
      this.wsPorts = wsPorts;
      this.survivors = survivors;
      this.minBackoff = minBackoff;
      this.maxBackoff = maxBackoff;
      int n = us.length;
      List<Integer> v = new ArrayList<>();
      victim = new boolean[n];
      for (int i = 0; i < n; i++) {
        if (home[i] == kill) {
          v.add(i);
          victim[i] = true;
        }
      }
      victims = v.stream().mapToInt(Integer::intValue).toArray();
      droppedAt = new long[n];
      firstAttemptAt = new long[n];
      reconnectedAt = new long[n];
      receivedAt = new long[n];
      attempts = new int[n];
      streak = new int[n];
      rr = new int[n];
      reconnectNode = new int[n];
      got = new boolean[2][n];
      // the dead node's users spread over the survivors in turn, as a load balancer that took it out would
      for (int k = 0; k < victims.length; k++) {
        rr[victims[k]] = k;
      }
      for (int i = 0; i < n; i++) {
        if (!victim[i]) {
          rr[i] = i;
        }
      }
    }

    /** From now on a dropped socket reconnects, and the storm and final pushes are noted per user. */
    void arm() {
      for (int i = 0; i < us.length; i++) {
        int u = i;
        us[i].onDropped = () -> onDropped(u);
      }
      hub.onDelivery = (r, sender) -> {
        int k = sender - stormSender;
        if (k == 0 && receivedAt[r] == 0) {
          receivedAt[r] = System.nanoTime();
        }
        if (k >= 0 && k < got.length) {
          got[k][r] = true;
        }
      };
    }

    private void onDropped(int i) {
      if (droppedAt[i] == 0) {
        droppedAt[i] = System.nanoTime();
        if (!victim[i]) {
          otherDrops++;
        }
      }
      retryLater(i);
    }

    /** "Equal jitter" as the JS client: half the back-off fixed, half random; it doubles per failed attempt. */
    private void retryLater(int i) {
      if (us[i].synced) {
        streak[i] = 0;
      }
      long delay = 0;
      if (minBackoff > 0) {
        long base = Math.min(maxBackoff, minBackoff << Math.min(streak[i], 20));
        delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
      }
      streak[i]++;
      if (delay == 0) {
        loop.ctx.runOnContext(v -> attempt(i));
      } else {
        loop.vertx.setTimer(delay, id -> attempt(i));
      }
    }

    private void attempt(int i) {
      long now = System.nanoTime();
      if (firstAttemptAt[i] == 0) {
        firstAttemptAt[i] = now;
      }
      attempts[i]++;
      int node = survivors[rr[i]++ % survivors.length];
      us[i].connect(clients.get(i % clients.size()), (int) wsPorts[node], "d", 30_000, us[i].lastSeq)
          .onSuccess(v -> {
            reconnectedAt[i] = System.nanoTime();
            reconnectNode[i] = node;
          })
          .onFailure(e -> {
            failures++;
            lastFailure = String.valueOf(e.getMessage());
            retryLater(i);
          });
    }

    /** The push right after the kill; a back end retries a push it got no 202 for, with the same key. */
    void push(Pusher pusher, String to, String body, String key, int attempt) {
      pushAttempts = attempt;
      long t = System.nanoTime();
      pusher.push(to, body, key).onSuccess(accepted -> {
        if (accepted) {
          pushAcceptedAt = System.nanoTime();
        } else {
          pushFailure = pusher.lastFailure + " (after " + (System.nanoTime() - t) / 1_000_000 + " ms)";
          if (attempt < 5) {
            loop.vertx.setTimer(1000, id -> push(pusher, to, body, key, attempt + 1));
          }
        }
      });
    }

    boolean recovered() {
      for (int i : victims) {
        if (receivedAt[i] == 0 || reconnectedAt[i] == 0 || !us[i].synced || !us[i].isOpen()) {
          return false;
        }
      }
      return true;
    }

    long countReceived(int sender) {
      int k = sender - stormSender;
      long c = 0;
      for (boolean g : got[k]) {
        if (g) {
          c++;
        }
      }
      return c;
    }

    void report(Result res, long tKill, int pushVia, boolean recovered, double limit) {
      int v = victims.length;
      Histogram dropped = Tracker.newHistogram();
      Histogram reconnected = Tracker.newHistogram();
      Histogram resynced = Tracker.newHistogram();
      Histogram received = Tracker.newHistogram();
      long lastDrop = 0;
      long lastReconnect = 0;
      long lastSync = 0;
      long lastReceived = 0;
      long firstAttempt = Long.MAX_VALUE;
      int nDropped = 0;
      int nReconnected = 0;
      int nSynced = 0;
      int nReceived = 0;
      long totalAttempts = 0;
      int maxAttempts = 0;
      int[] perNode = new int[wsPorts.length];
      for (int i : victims) {
        if (droppedAt[i] > 0) {
          nDropped++;
          dropped.recordValue(Math.max(0, (droppedAt[i] - tKill) / 1000));
          lastDrop = Math.max(lastDrop, droppedAt[i]);
        }
        if (firstAttemptAt[i] > 0) {
          firstAttempt = Math.min(firstAttempt, firstAttemptAt[i]);
        }
        if (reconnectedAt[i] > 0) {
          nReconnected++;
          reconnected.recordValue(Math.max(0, (reconnectedAt[i] - tKill) / 1000));
          lastReconnect = Math.max(lastReconnect, reconnectedAt[i]);
          perNode[reconnectNode[i]]++;
        }
        if (reconnectedAt[i] > 0 && us[i].synced && us[i].syncedAt > tKill) {
          nSynced++;
          resynced.recordValue(Math.max(0, (us[i].syncedAt - tKill) / 1000));
          lastSync = Math.max(lastSync, us[i].syncedAt);
        }
        if (receivedAt[i] > 0) {
          nReceived++;
          received.recordValue(Math.max(0, (receivedAt[i] - tKill) / 1000));
          lastReceived = Math.max(lastReceived, receivedAt[i]);
        }
        totalAttempts += attempts[i];
        maxAttempts = Math.max(maxAttempts, attempts[i]);
      }
      double dropS = secs(lastDrop, tKill);
      double reconnectS = secs(lastReconnect, tKill);
      double syncS = secs(lastSync, tKill);
      double receiveS = secs(lastReceived, tKill);
      double spread = lastReconnect > 0 && firstAttempt < Long.MAX_VALUE ? (lastReconnect - firstAttempt) / 1e9 : Double.NaN;
      double rate = nReconnected / spread;
      long lost = v - nReceived;
      res.put("victims", v).put("dropped", nDropped).put("reconnected", nReconnected).put("resynced", nSynced)
          .put("received", nReceived).put("lost", lost)
          .put("all_dropped_s", Result.round(dropS)).put("all_reconnected_s", Result.round(reconnectS))
          .put("all_resynced_s", Result.round(syncS)).put("all_received_s", Result.round(receiveS))
          .put("reconnects_per_s", Result.round(rate)).put("reconnect_spread_s", Result.round(spread))
          .put("connect_attempts", totalAttempts).put("connect_failures", failures).put("max_attempts_per_user", maxAttempts)
          .put("other_users_dropped", otherDrops).put("push_attempts", pushAttempts)
          .put("push_202_s", pushAcceptedAt > 0 ? Result.round(secs(pushAcceptedAt, tKill)) : null);
      res.line("killed node's users", String.format(Locale.ROOT, "%s; sockets closed: %s, last %.0f ms after the kill",
          Result.n(v), Result.n(nDropped), dropS * 1000));
      res.line("all reconnected", String.format(Locale.ROOT, "%s of %s, last %.2f s after the kill (handshake done)",
          Result.n(nReconnected), Result.n(v), reconnectS));
      res.line("all resynced", String.format(Locale.ROOT, "%s of %s, last %.2f s after the kill (synced: joined the "
          + "directory, backlog read)", Result.n(nSynced), Result.n(v), syncS));
      res.line("all received", String.format(Locale.ROOT, "%s of %s got the message pushed right after the kill, last "
          + "%.2f s after the kill%s", Result.n(nReceived), Result.n(v), receiveS,
          recovered ? "" : String.format(Locale.ROOT, " (GAVE UP after %.0f s)", limit)));
      res.line("reconnect rate", String.format(Locale.ROOT, "%s connects/s (%s reconnects from the first attempt to the "
              + "last handshake, %.2f s); %s attempts, %d failed%s; per node: %s", Result.rate(rate), Result.n(nReconnected),
          spread, Result.n(totalAttempts), failures, lastFailure == null ? "" : " (last: " + lastFailure + ")",
          perNodeText(perNode)));
      res.line("push after the kill", String.format(Locale.ROOT, "to the %s users of the dead node through node %d: %s "
              + "after %d attempt(s)%s", Result.n(v), pushVia + 1,
          pushAcceptedAt > 0 ? String.format(Locale.ROOT, "202 %.2f s after the kill", secs(pushAcceptedAt, tKill))
              : "NO 202", pushAttempts, pushFailure == null ? "" : "; failure seen: " + pushFailure));
      res.latency("kill -> socket closed", "dropped", dropped);
      res.latency("kill -> reconnected", "reconnected", reconnected);
      res.latency("kill -> resynced", "resynced", resynced);
      res.latency("kill -> message received", "received", received);
      res.line("lost", lost + " of " + v + (otherDrops > 0 ? "; users of surviving nodes disconnected: " + otherDrops : ""));
      if (lost > 0) {
        res.fail(lost + " users of the dead node never received the message pushed after the kill");
      }
      if (!recovered) {
        res.fail("not recovered within " + limit + " s");
      }
      if (otherDrops > 0) {
        res.fail(otherDrops + " users of surviving nodes were disconnected");
      }
    }

    private static String perNodeText(int[] perNode) {
      StringBuilder sb = new StringBuilder();
      for (int j = 0; j < perNode.length; j++) {
        if (perNode[j] > 0) {
          sb.append(sb.length() == 0 ? "" : ", ").append("node ").append(j + 1).append(' ').append(Result.n(perNode[j]));
        }
      }
      return sb.toString();
    }

    private static double secs(long t, long from) {
      return t > 0 ? (t - from) / 1e9 : Double.NaN;
    }
  }
}
