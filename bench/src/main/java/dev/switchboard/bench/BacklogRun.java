package dev.switchboard.bench;

import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.Locale;

/**
 * {@code backlog}: stores M messages for each of U offline users through the push API, then connects
 * them all and times how long the server takes to deliver every stored message. With
 * {@code --webhook-port} (bench.sh {@code --webhook}) the server posts an offline notification per
 * stored message to a receiver in the generator, which checks and counts them before the drain.
 */
final class BacklogRun {

  private final Args a;

  BacklogRun(Args a) {
    this.a = a;
  }

  int run() {
    long pid = a.lng("server-pid", -1);
    int wsPort = a.integer("ws-port", 8080);
    int pushPort = a.integer("push-port", 8081);
    int users = a.integer("users", 1000);
    int messages = a.integer("messages", 500);
    int batch = Math.min(users, a.integer("push-batch", Math.min(users, 10_000)));
    int slots = a.integer("push-concurrency", 4);
    int size = a.integer("size", 100);
    int window = a.integer("window", 200);
    int ackEvery = a.integer("ack-every", 100);
    double drainLimit = a.dbl("drain-timeout", 120);
    String jsonOut = a.str("json", null);
    int webhookPort = a.integer("webhook-port", 0);
    String webhookSecret = a.str("webhook-secret", "");
    double webhookLimit = a.dbl("webhook-timeout", 60);
    if (webhookPort > 0 && webhookSecret.length() < 16) {
      throw new IllegalArgumentException("--webhook-port needs --webhook-secret, the server's webhook.secret (16+ characters)");
    }
    Bench.checkFds(users + 100L, pid, "server");
    int chunks = (users + batch - 1) / batch;
    long pushes = (long) messages * chunks;

    Result res = new Result("backlog", "switchboard", a.str("label", ""));
    res.put("users", users).put("messages_per_user", messages).put("push_batch", batch).put("body_bytes", size);
    res.line("load", String.format(Locale.ROOT, "%s users x %s stored messages (body %d bytes) = %s, stored through %s "
            + "pushes of %d recipients (%d in flight), then all users connect (%d handshakes in flight)",
        Result.n(users), Result.n(messages), size, Result.n((long) users * messages), Result.n(pushes), batch, slots, window));

    try (Loop loop = new Loop()) {
      Token token = new Token(size);
      Tracker tracker = new Tracker(token, users);
      Hub hub = new Hub(loop.vertx, tracker, 1, ackEvery);
      Pusher pusher = loop.call(() -> new Pusher(loop.vertx, pushPort, slots));
      String[] chunkTo = new String[chunks];
      for (int c = 0; c < chunks; c++) {
        int from = c * batch;
        int[] ids = new int[Math.min(batch, users - from)];
        for (int j = 0; j < ids.length; j++) {
          ids[j] = from + j;
        }
        chunkTo[c] = Pusher.recipients(ids);
      }
      long[] okPerChunk = new long[chunks];
      WebhookTally webhook = null;
      if (webhookPort > 0) {
        WebhookTally tally = new WebhookTally(webhookSecret, token.run, users);
        WebhookReceiver receiver = loop.call(() -> new WebhookReceiver(loop.vertx, tally));
        loop.await(() -> receiver.listen(webhookPort), 10_000);
        webhook = tally;
        res.put("webhook", true);
        res.line("webhook", "the server posts offline notifications to a receiver in the generator on 127.0.0.1:"
            + webhookPort + " (signatures checked, each notification counted once by id)");
      }

      // 1. fill: each slot pushes its share one after the other, so each slot->recipient pair stays in order
      ProcStats.Cpu f0 = ProcStats.Cpu.take(pid);
      long tf = System.nanoTime();
      try {
        loop.await(() -> {
          Promise<Void> all = Promise.promise();
          int[] running = {slots};
          for (int k = 0; k < slots; k++) {
            int slot = k;
            long[] seq = {0};
            Runnable[] next = new Runnable[1];
            next[0] = () -> {
              long p = slot + seq[0] * slots;
              if (p >= pushes) {
                if (--running[0] == 0) {
                  all.complete();
                }
                return;
              }
              int c = (int) (p % chunks);
              long q = seq[0]++;
              long intended = Token.now();
              pusher.push(chunkTo[c], token.make(slot, q, intended)).onComplete(ar -> {
                if (ar.result()) {
                  okPerChunk[c]++;
                  tracker.acceptLatency.recordValue(Math.max(0, (Token.now() - intended) / 1000));
                }
                next[0].run();
              });
            };
            next[0].run();
          }
          return all.future();
        }, (long) (a.dbl("fill-timeout", 300) * 1000));
      } catch (IllegalStateException e) {
        res.fail("filling did not finish: " + e.getMessage());
      }
      double fillSecs = (System.nanoTime() - tf) / 1e9;
      ProcStats.Cpu f1 = ProcStats.Cpu.take(pid);
      long stored = loop.call(() -> {
        long s = 0;
        for (int c = 0; c < chunks; c++) {
          s += okPerChunk[c] * Math.min(batch, users - c * batch);
        }
        return s;
      });
      Histogram pushLat = loop.call(() -> tracker.acceptLatency.copy());
      res.put("pushes_ok", pusher.ok).put("pushes_failed", pusher.failed).put("stored", stored)
          .put("fill_s", Result.round(fillSecs)).put("stored_per_s", Result.round(stored / fillSecs))
          .put("fill_server_cpu_s", Result.round(f1.server() - f0.server()));
      res.line("fill", String.format(Locale.ROOT, "%s pushes ok, %d failed%s; %s messages stored in %.2f s = %s msg/s "
              + "(server cpu %.1f s = %s us/msg)", Result.n(pusher.ok), pusher.failed,
          pusher.lastFailure == null ? "" : " (last: " + pusher.lastFailure + ")", Result.n(stored), fillSecs,
          Result.rate(stored / fillSecs), f1.server() - f0.server(), Result.f((f1.server() - f0.server()) * 1e6 / stored)));
      res.latency("push latency (202)", "push", pushLat);
      if (pusher.failed > 0) {
        res.fail(pusher.failed + " pushes failed");
      }
      if (webhook != null) {
        awaitNotifications(res, loop, webhook, stored, okPerChunk, batch, users, pushPort, pid, f0, tf, fillSecs, webhookLimit);
      }

      // 2. drain: everyone connects with a new device, so the whole inbox is backlog
      Loop.sleep(1000);
      List<WebSocketClient> clients = loop.call(() -> loop.wsClients(1 + users / 20_000, 30_000));
      WsUser[] us = loop.call(() -> {
        tracker.resetHistograms(Long.MIN_VALUE, Long.MAX_VALUE);
        return hub.wsUsers("u", users);
      });
      ProcStats.Cpu d0 = ProcStats.Cpu.take(pid);
      long td = System.nanoTime();
      long t0 = Token.now();
      loop.run(() -> {
        hub.startAckSweeper();
        Loop.windowed(users, window, i -> us[i].connect(clients.get(i % clients.size()), wsPort, "d", 30_000)
            .onFailure(e -> hub.connectFailed++));
      });
      boolean done = loop.waitFor(() -> tracker.delivered >= stored && hub.synced + hub.connectFailed >= users,
          (long) (drainLimit * 1000));
      ProcStats.Cpu d1 = ProcStats.Cpu.take(pid);
      long[] st = loop.call(() -> new long[] {tracker.delivered, tracker.duplicates, tracker.outOfOrder, hub.synced,
          hub.connectFailed, hub.seqGaps, hub.gapFrames, tracker.lastDeliveryNanos, hub.closedUnexpectedly,
          tracker.foreign, hub.messagesTotal});
      double drainSecs = done ? (st[7] - t0) / 1e9 : (System.nanoTime() - td) / 1e9;
      Histogram perUser = Tracker.newHistogram();
      long lost = loop.call(() -> {
        long l = 0;
        for (int r = 0; r < users; r++) {
          long got = 0;
          for (int k = 0; k < slots; k++) {
            got += tracker.distinct(r, k);
          }
          l += Math.max(0, okPerChunk[r / batch] - got);
          if (us[r].syncedAt > 0) {
            perUser.recordValue(Math.max(0, (us[r].syncedAt - td) / 1000));
          }
        }
        return l;
      });
      double rate = st[0] / drainSecs;
      res.put("delivered", st[0]).put("lost", lost).put("duplicates", st[1]).put("out_of_order", st[2])
          .put("synced", st[3]).put("connect_failed", st[4]).put("seq_gaps", st[5]).put("gap_frames", st[6])
          .put("drain_s", Result.round(drainSecs)).put("drain_msg_per_s", Result.round(rate));
      res.line("drain", String.format(Locale.ROOT, "%s of %s delivered in %.2f s = %s msg/s%s", Result.n(st[0]),
          Result.n(stored), drainSecs, Result.rate(rate), done ? "" : " (TIMED OUT at --drain-timeout)"));
      res.line("lost/dup/out-of-order", lost + " / " + st[1] + " / " + st[2] + String.format(Locale.ROOT,
          "   (frames %d, seq gaps %d, gap frames %d, synced %d, connect failures %d, disconnects %d, foreign %d)",
          st[10], st[5], st[6], st[3], st[4], st[8], st[9]));
      res.latency("time to synced per user", "user_synced", perUser);
      res.cpu(d0, d1, st[0], "msg");
      res.memory(pid);
      res.line("target >= 100k msg/s", rate >= 100_000 ? "met" : "MISSED");
      if (!done) {
        res.fail("backlog not drained within " + drainLimit + " s");
      }
      if (lost > 0) {
        res.fail(lost + " lost");
      }
      if (st[1] > 0 || st[2] > 0) {
        res.fail("duplicates or reordering");
      }
      loop.await(() -> Loop.windowed(users, 1000, i -> us[i].close()), 30_000);
    } catch (IllegalStateException e) {
      res.fail(e.getMessage());
    }
    res.print(System.out);
    res.save(jsonOut);
    return res.passed() ? 0 : 1;
  }

  /**
   * Waits (at most {@code limitSecs}) until the receiver has one notification per stored message,
   * then reports them: calls, notifications per second from the fill's start to the last one, the
   * server's CPU over that span per message, and the server's own webhook meters.
   */
  private static void awaitNotifications(Result res, Loop loop, WebhookTally w, long stored, long[] okPerChunk, int batch,
                                         int users, int pushPort, long pid, ProcStats.Cpu f0, long fillStart, double fillSecs,
                                         double limitSecs) {
    boolean all = loop.waitFor(() -> w.distinct >= stored, (long) (limitSecs * 1000));
    ProcStats.Cpu n1 = ProcStats.Cpu.take(pid);
    long[] st = loop.call(() -> {
      long lost = 0;
      for (int u = 0; u < users; u++) {
        lost += Math.max(0, okPerChunk[u / batch] - w.of(u));
      }
      return new long[] {w.calls, w.notifications, w.distinct, w.duplicates, w.badSignatures, w.malformed, w.foreign,
          lost, w.lastNanos};
    });
    double span = st[8] > 0 ? (st[8] - fillStart) / 1e9 : Double.NaN;
    double rate = st[2] / span;
    double cpu = n1.server() - f0.server();
    res.put("webhook_calls", st[0]).put("notifications", st[1]).put("notifications_distinct", st[2])
        .put("notifications_duplicates", st[3]).put("notifications_lost", st[7]).put("webhook_bad_signatures", st[4])
        .put("webhook_malformed", st[5]).put("notifications_foreign", st[6]).put("notify_s", Result.round(span))
        .put("notifications_per_s", Result.round(rate)).put("fill_notify_server_cpu_s", Result.round(cpu))
        .put("fill_notify_server_cpu_us_per_msg", Result.round(cpu * 1e6 / Math.max(1, stored)));
    res.line("notifications", String.format(Locale.ROOT, "%s of %s due in %s calls (%.1f per call), lost %d, doubled %d, "
            + "bad signatures %d, malformed %d, foreign %d%s", Result.n(st[2]), Result.n(stored), Result.n(st[0]),
        st[1] / Math.max(1.0, st[0]), st[7], st[3], st[4], st[5], st[6], all ? "" : " (TIMED OUT at --webhook-timeout)"));
    res.line("notifications/s", String.format(Locale.ROOT, "%s/s from the fill's start to the last notification "
        + "(%.2f s; the last %.2f s after the fill ended)", Result.rate(rate), span, span - fillSecs));
    res.line("fill + notify cpu", String.format(Locale.ROOT, "server %.2f s until the last notification = %s us per "
        + "message (the fill line alone: its own span)", cpu, Result.f(cpu * 1e6 / Math.max(1, stored))));
    res.line("server webhook meters", webhookMeters(loop, pushPort));
    if (!all) {
      res.fail("notifications not all posted within " + limitSecs + " s");
    }
    if (st[7] + st[3] + st[4] + st[5] + st[6] > 0) {
      res.fail("notifications: lost " + st[7] + ", doubled " + st[3] + ", bad signatures " + st[4] + ", malformed "
          + st[5] + ", foreign " + st[6]);
    }
  }

  /** The server's webhook counters from its {@code /metrics} (outcome and result labels), or why not. */
  private static String webhookMeters(Loop loop, int pushPort) {
    try {
      String text = loop.await(() -> {
        HttpClientAgent http = loop.vertx.createHttpClient();
        return http.request(HttpMethod.GET, pushPort, "127.0.0.1", "/metrics")
            .compose(req -> req.send().compose(resp -> resp.body()))
            .map(Buffer::toString)
            .eventually(() -> http.close());
      }, 10_000);
      StringBuilder sb = new StringBuilder();
      for (String line : text.split("\n")) {
        if (line.startsWith("switchboard_webhook_notifications_total{") || line.startsWith("switchboard_webhook_posts_total{")) {
          sb.append(sb.length() == 0 ? "" : ", ").append(line.substring("switchboard_webhook_".length()).replace(",}", "}"));
        }
      }
      return sb.length() == 0 ? "(none in /metrics)" : sb.toString();
    } catch (IllegalStateException e) {
      return "(could not read /metrics: " + e.getMessage() + ")";
    }
  }
}
