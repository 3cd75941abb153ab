package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code rooms}: R rooms of M members, every member online as a v1 WebSocket user in exactly one
 * room; S members of each room send to it at a fixed total rate (open loop). Every member's copy is
 * timed from its intended send time and checked per (member, room): each accepted roomSeq once, in
 * order. {@code --find-max} steps the rate as {@code direct} does. With {@code --receipts} every send
 * asks for a delivered receipt and members send room reads; {@link ReceiptLedger} checks both.
 */
final class RoomRun {

  /** What one phase measured; rate is room messages per second in, deliveries are member copies out. */
  record Step(double rate, double seconds, long sent, long accepted, long delivered, long receivedInWindow, long lost,
              long duplicates, long outOfOrder, long rejected, long unanswered, long skipped, long closed, long seqGaps,
              long foreign, long late, double drainSeconds, Histogram latency, Histogram accept, ProcStats.Cpu cpu0,
              ProcStats.Cpu cpu1, long deliveredInCpuWindow, Receipts receipts) implements Phase {

    boolean clean() {
      return lost == 0 && duplicates == 0 && outOfOrder == 0 && rejected == 0 && closed == 0 && skipped == 0
          && (receipts == null || receipts.clean());
    }
  }

  /**
   * What {@code --receipts} adds to a step: the receipt counts from its start to the end of its drain,
   * receipt frames received in the measured window and between the CPU snapshots, and reads refused
   * (error frames without an id).
   */
  record Receipts(ReceiptLedger.Counts counts, long framesInWindow, long framesInCpuWindow, long refusedReads) {

    boolean clean() {
      return counts.clean() && refusedReads == 0;
    }
  }

  private final Args a;
  private final long pid;
  private final int rooms;
  private final int members;
  private final int senders;
  private final boolean receipts;
  private ReceiptLedger receiptLedger;
  private Loop loop;
  private Hub hub;
  private RoomLedger ledger;
  private WsUser[] users;
  private final Map<String, Integer> roomIndex = new HashMap<>();
  private String[] roomNames;
  // open-loop sender state, on the loop
  private long t0;
  private double periodNs;
  private long g;
  private long gEnd;
  private long timer = -1;
  private long late;

  RoomRun(Args a) {
    this.a = a;
    this.pid = a.lng("server-pid", -1);
    this.rooms = a.integer("rooms", 1);
    this.members = a.integer("members", 1000);
    this.senders = a.integer("senders", 1);
    if (rooms < 1 || members < 2 || senders < 1 || senders > members) {
      throw new IllegalArgumentException("--rooms >= 1, --members >= 2 and 1 <= --senders <= --members");
    }
    this.receipts = a.flag("receipts");
    // The server refuses receipts in rooms above limits.roomReceiptMembers (room_too_big) by design; say so up front.
    int receiptMembers = a.integer("room-receipt-members", 100);
    if (receipts && members > receiptMembers) {
      throw new IllegalArgumentException("--receipts applies to rooms of at most limits.roomReceiptMembers members ("
          + receiptMembers + ", --room-receipt-members); the server refuses receipts in a room of " + members
          + " with room_too_big");
    }
  }

  int run() {
    double rate = a.dbl("rate", 100);
    double duration = a.dbl("duration", 20);
    // 30 s as direct: past the server's first heartbeat round, which recompiles the WebSocket path
    double warmup = a.dbl("warmup", 30);
    double drain = a.dbl("drain", 10);
    int size = a.integer("size", 100);
    int window = a.integer("connect-window", 200);
    boolean findMax = a.flag("find-max");
    String jsonOut = a.str("json", null);
    int n = rooms * members;
    Bench.checkFds(n + 100L, pid, "server");

    Result res = new Result(findMax ? "rooms --find-max" : "rooms", "switchboard", a.str("label", ""));
    res.put("rooms", rooms).put("members", members).put("senders_per_room", senders).put("users", n)
        .put("body_bytes", size).put("warmup_s", warmup);
    loop = new Loop();
    Token token = new Token(size);
    hub = new Hub(loop.vertx, new Tracker(token, n), 1, a.integer("ack-every", 50));
    hub.ackIntervalMs = a.lng("ack-interval-ms", 1000);
    ledger = new RoomLedger(rooms, members);
    int readEvery = a.integer("read-every", 10);
    if (receipts) {
      receiptLedger = new ReceiptLedger(rooms, members);
      hub.readEvery = readEvery;
      res.put("receipts", true).put("read_every", readEvery);
    }
    roomNames = new String[rooms];
    for (int k = 0; k < rooms; k++) {
      roomNames[k] = "room" + k;
      roomIndex.put(roomNames[k], k);
    }
    res.put("run", token.run);
    try {
      if (connect(res, window) && setUp(res)) {
        if (findMax) {
          findMax(res, rate, warmup, drain);
        } else {
          res.put("rate", rate).put("duration_s", duration);
          res.line("load", String.format(Locale.ROOT, "%d room(s) of %d members (%s users online, each in one room), "
              + "%d sender(s) per room, %s room msg/s in all for %.0f s (after %.0f s warm-up), body %d bytes", rooms, members,
              Result.n(n), senders, Result.rate(rate), duration, warmup, size));
          if (receipts) {
            res.line("receipts", String.format(Locale.ROOT, "every send asks for a delivered receipt (%d due per message); "
                + "%s", members - 1, readEvery > 0 ? "each member, after an ack, reads its room up to its newest message "
                + "once " + readEvery + " came since its last read (" + (members - 1) + " read receipts each)" : "no reads"));
          }
          report(res, quietPhase(rate, warmup, duration, drain));
        }
      }
    } finally {
      loop.awaitQuietly(hub::closeAll, 20_000);
      loop.close();
    }
    res.print(System.out);
    res.save(jsonOut);
    return res.passed() ? 0 : 1;
  }

  private boolean connect(Result res, int window) {
    int n = rooms * members;
    long t = System.nanoTime();
    int port = a.integer("ws-port", 8080);
    List<WebSocketClient> clients = loop.call(() -> loop.wsClients(a.integer("addresses", 1), 10_000));
    users = loop.call(() -> {
      hub.onRoom = new Hub.RoomHook() {
        @Override
        public void delivered(int member, String room, long roomSeq) {
          ledger.onDelivered(member, indexOf(room), roomSeq);
        }

        @Override
        public void event(int member, String room, long roomSeq) {
          ledger.onEvent(member, indexOf(room), roomSeq);
        }

        @Override
        public void accepted(String room, long roomSeq) {
          ledger.onAccepted(indexOf(room), roomSeq);
        }
      };
      if (receipts) {
        hub.onReceipt = receiptHook();
      }
      return hub.wsUsers("u", n);
    });
    loop.awaitQuietly(() -> WsUser.connectAll(users, clients, new long[] {port}, window, 10_000), 120_000);
    boolean all = loop.waitFor(() -> hub.synced + hub.connectFailed >= n, 30_000) && loop.call(() -> hub.synced) == n;
    double secs = (System.nanoTime() - t) / 1e9;
    res.put("connect_s", Result.round(secs));
    res.line("connect", String.format(Locale.ROOT, "%d of %d members connected and synced in %.2f s",
        loop.call(() -> hub.synced), n, secs));
    if (!all) {
      res.fail("not all members connected (first error: " + loop.call(() -> {
        for (WsUser u : users) {
          if (u.lastError != null) {
            return u.lastError;
          }
        }
        return "none reported";
      }) + ")");
      return false;
    }
    loop.call(hub::startAckSweeper);
    return true;
  }

  /** Receipts and the frames that name their messages, into the receipt ledger (users are u0, u1, ...). */
  private Hub.ReceiptHook receiptHook() {
    return new Hub.ReceiptHook() {
      @Override
      public void copy(String room, String msgId, long roomSeq) {
        receiptLedger.onMessage(indexOf(room), msgId, roomSeq);
      }

      @Override
      public void accepted(int sender, String msgId, long roomSeq) {
        receiptLedger.onAccepted(sender, msgId, roomSeq);
      }

      @Override
      public void delivered(int receiver, String room, String by, String upTo) {
        receiptLedger.onDelivered(receiver, indexOf(room), userIndex(by), upTo);
      }

      @Override
      public void read(int receiver, String room, String by, String upTo) {
        receiptLedger.onRead(receiver, indexOf(room), userIndex(by), upTo);
      }

      @Override
      public void readSent(int reader, String upTo) {
        receiptLedger.onReadSent(reader, upTo);
      }
    };
  }

  private static int userIndex(String user) {
    try {
      return user != null && user.startsWith("u") ? Integer.parseInt(user.substring(1)) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private int indexOf(String room) {
    Integer k = room == null ? null : roomIndex.get(room);
    return k == null ? -1 : k;
  }

  /**
   * Through the HTTP room API (the bench runs the server in {@code insecure} mode, where no key is
   * needed and {@code owner} may be set): each room is created with its first member as owner, then
   * the others are added, one request at a time per room. Waits until every member has seen its
   * room's membership events, so they are not part of the measured window.
   */
  private boolean setUp(Result res) {
    long t = System.nanoTime();
    int pushPort = a.integer("push-port", 8081);
    int parallel = Math.min(rooms, a.integer("setup-concurrency", 8));
    String[] failure = new String[1];
    HttpClientAgent http = loop.call(() -> loop.vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(parallel)));
    try {
      loop.await(() -> Loop.windowed(rooms, parallel, k -> setUpRoom(http, pushPort, k, failure)), 600_000);
    } catch (IllegalStateException e) {
      failure[0] = "room setup: " + e.getMessage();
    }
    boolean settled = failure[0] == null && loop.waitFor(ledger::settled, 120_000);
    double secs = (System.nanoTime() - t) / 1e9;
    res.put("setup_s", Result.round(secs));
    res.line("setup", String.format(Locale.ROOT, "%d room(s) of %d members made through the HTTP API in %.2f s "
        + "(each member told of its own joining: %s)", rooms, members, secs, settled ? "all" : "NOT all"));
    loop.run(http::close);
    if (failure[0] != null) {
      res.fail(failure[0]);
    } else if (!settled) {
      res.fail("members did not get their rooms' membership events within 120 s");
    }
    return failure[0] == null && settled;
  }

  private Future<Void> setUpRoom(HttpClientAgent http, int port, int k, String[] failure) {
    int first = k * members;
    String create = new JsonObject().put("room", roomNames[k]).put("owner", users[first].name).encode();
    Future<Void> f = call(http, port, HttpMethod.POST, "/api/v1/rooms", create, 201, k, first);
    for (int m = 1; m < members; m++) {
      String path = "/api/v1/rooms/" + roomNames[k] + "/members/" + users[first + m].name;
      int member = first + m;
      f = f.compose(v -> call(http, port, HttpMethod.PUT, path, null, 200, k, member));
    }
    return f.onFailure(e -> {
      if (failure[0] == null) {
        failure[0] = "room setup: " + e.getMessage();
      }
    });
  }

  /** One room API call for room {@code k} that makes user {@code member} a member. */
  private Future<Void> call(HttpClientAgent http, int port, HttpMethod method, String uri, String body, int want, int k,
                            int member) {
    RequestOptions o = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(uri)
        .setIdleTimeout(60_000);
    if (body != null) {
      o.putHeader("content-type", "application/json");
    }
    return http.request(o)
        .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().compose(b -> {
          if (resp.statusCode() != want) {
            return Future.failedFuture(method + " " + uri + " answered " + resp.statusCode() + " " + b);
          }
          long roomSeq = new JsonObject(b).getLong("roomSeq", 0L);
          ledger.setBase(k, roomSeq);
          ledger.setJoined(member, roomSeq);
          return Future.succeededFuture();
        }));
  }

  /** On the loop: message g is due at t0 + g / rate, to room g mod rooms, from that room's next sender in turn. */
  private void tick() {
    long now = Token.now();
    int burst = 0;
    while (g < gEnd && burst < 50_000) {
      long intended = t0 + (long) (g * periodNs);
      if (intended > now) {
        break;
      }
      if (now - intended > 10_000_000L) {
        late++;
      }
      int k = (int) (g % rooms);
      WsUser u = users[k * members + (int) ((g / rooms) % senders)];
      u.sendRoom(roomNames[k], u.nextSeq(), intended);
      g++;
      burst++;
    }
    if (g >= gEnd) {
      stopSending();
    }
  }

  private void stopSending() {
    if (timer >= 0) {
      hub.vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /** Copies still owed for what was accepted, or sends not yet answered. */
  private boolean drained() {
    return ledger.distinct >= ledger.expected() && hub.unanswered() <= 0
        && (receiptLedger == null || receiptLedger.complete());
  }

  Step quietPhase(double rate, double warmup, double seconds, double drainSeconds) {
    return Phase.quiet(rate, "room msg/s", warmup, w -> phase(rate, w, seconds, drainSeconds));
  }

  /** Warm-up then a measured window at {@code rate}, then waits (bounded) until every accepted message reached every member. */
  Step phase(double rate, double warmup, double seconds, double drainSeconds) {
    long warmNs = (long) (warmup * 1e9);
    long measureNs = (long) (seconds * 1e9);
    long[] before = loop.call(() -> new long[] {hub.sent, ledger.expected(), ledger.distinct, ledger.duplicates,
        ledger.outOfOrder, hub.rejected, hub.sendSkipped, hub.closedUnexpectedly, hub.seqGaps,
        ledger.foreign + hub.tracker.foreign, ledger.lost(), hub.tracker.duplicates, hub.otherErrors});
    ReceiptLedger.Counts r0 = receipts ? loop.call(receiptLedger::counts) : null;
    long start = loop.call(() -> {
      long s = Token.now() + 2_000_000L;
      hub.tracker.resetHistograms(s + warmNs, s + warmNs + measureNs);
      t0 = s;
      periodNs = 1e9 / rate;
      g = 0;
      gEnd = (long) Math.ceil(rate * (warmup + seconds));
      late = 0;
      timer = hub.vertx.setPeriodic(1, id -> tick());
      return s;
    });
    Loop.sleepUntil(start + warmNs);
    ProcStats.Cpu cpu0 = ProcStats.Cpu.take(pid);
    long deliveredAtCpu0 = loop.call(() -> ledger.distinct);
    long receiptsAtCpu0 = receipts ? loop.call(() -> receiptLedger.deliveredDistinct + receiptLedger.readsDistinct) : 0;
    Loop.sleepUntil(start + warmNs + measureNs);
    long receiptsAtWindowEnd = receipts ? loop.call(() -> receiptLedger.deliveredDistinct + receiptLedger.readsDistinct) : 0;
    loop.waitFor(() -> g >= gEnd, 10_000);
    loop.run(this::stopSending);
    long drainStart = System.nanoTime();
    loop.waitFor(this::drained, (long) (drainSeconds * 1000));
    double drained = (System.nanoTime() - drainStart) / 1e9;
    ProcStats.Cpu cpu1 = ProcStats.Cpu.take(pid);
    return loop.call(() -> {
      Tracker t = hub.tracker;
      long accepted = (ledger.expected() - before[1]) / members;
      // Duplicates by either count: a roomSeq twice for a member, or a sender's token twice.
      long dups = Math.max(ledger.duplicates - before[3], t.duplicates - before[11]);
      Receipts rc = null;
      if (receipts) {
        ReceiptLedger.Counts c = receiptLedger.counts();
        long now = receiptLedger.deliveredDistinct + receiptLedger.readsDistinct;
        rc = new Receipts(c.since(r0), receiptsAtWindowEnd - receiptsAtCpu0, now - receiptsAtCpu0,
            hub.otherErrors - before[12]);
      }
      return new Step(rate, seconds, hub.sent - before[0], accepted, ledger.distinct - before[2], t.receivedInWindow,
          Math.max(0, ledger.lost() - before[10]), dups, ledger.outOfOrder - before[4], hub.rejected - before[5],
          hub.unanswered(), hub.sendSkipped - before[6], hub.closedUnexpectedly - before[7], hub.seqGaps - before[8],
          ledger.foreign + t.foreign - before[9], late, drained, t.latency.copy(), t.acceptLatency.copy(), cpu0, cpu1,
          ledger.distinct - deliveredAtCpu0, rc);
    });
  }

  private void report(Result res, Step st) {
    long unexpected = loop.call(ledger::unexpected);
    res.put("sent", st.sent()).put("accepted", st.accepted()).put("delivered", st.delivered()).put("lost", st.lost())
        .put("duplicates", st.duplicates()).put("out_of_order", st.outOfOrder()).put("rejected", st.rejected())
        .put("unanswered", st.unanswered()).put("not_sent_disconnected", st.skipped()).put("disconnects", st.closed())
        .put("seq_gaps", st.seqGaps()).put("foreign", st.foreign()).put("unexpected", unexpected)
        .put("delivered_per_s", Result.round(st.perSecond())).put("drain_s", Result.round(st.drainSeconds()))
        .put("sent_late_10ms", st.late());
    res.line("sent", String.format(Locale.ROOT, "%s room messages, %s accepted (%s of them >10 ms behind schedule)",
        Result.n(st.sent()), Result.n(st.accepted()), Result.n(st.late())));
    res.line("delivered", Result.n(st.delivered()) + " member copies  =  " + Result.rate(st.perSecond())
        + " deliveries/s received during the measured window");
    res.line("lost/dup/out-of-order", st.lost() + " / " + st.duplicates() + " / " + st.outOfOrder()
        + String.format(Locale.ROOT, "   per (member, room) roomSeq (rejected %d, unanswered %d, drain %.1f s)",
        st.rejected(), st.unanswered(), st.drainSeconds()));
    res.line("connection trouble", String.format(Locale.ROOT, "disconnects %d, not sent (down) %d, server seq gaps %d, "
        + "foreign %d, unexpected roomSeqs %d", st.closed(), st.skipped(), st.seqGaps(), st.foreign(), unexpected));
    res.latency("latency send->deliver", "latency", st.latency());
    res.latency("latency send->accepted", "accept", st.accept());
    res.cpu(st.cpu0(), st.cpu1(), st.deliveredInCpuWindow(), "delivery");
    res.memory(pid);
    double p99 = st.p99ms();
    double limit = a.dbl("p99-limit", 100);
    res.line("target p99 < " + Result.f(limit) + " ms", Double.isNaN(p99) ? "no samples"
        : (p99 < limit ? "met" : "MISSED") + " (p99 " + Result.f(p99) + " ms)");
    res.line("rooms", String.format(Locale.ROOT, "rooms=%d members=%d senders=%d in=%s/s out=%s/s p99_ms=%s "
        + "cpu_us_per_delivery=%s lost=%d dup=%d ooo=%d", rooms, members, senders, Result.rate(st.rate()),
        Result.rate(st.perSecond()), Result.f(p99), Result.f(st.cpuMicrosPerDelivery()), st.lost(), st.duplicates(),
        st.outOfOrder()));
    if (st.delivered() == 0) {
      res.fail("nothing was delivered");
    }
    if (st.lost() + st.duplicates() + st.outOfOrder() + st.rejected() + st.closed() + st.skipped() > 0) {
      res.fail("lost " + st.lost() + ", duplicates " + st.duplicates() + ", out of order " + st.outOfOrder()
          + ", rejected " + st.rejected() + ", disconnects " + st.closed() + ", not sent " + st.skipped());
    }
    if (unexpected > 0 || st.foreign() > 0) {
      res.fail(unexpected + " unexpected roomSeqs, " + st.foreign() + " foreign deliveries");
    }
    if (st.receipts() != null) {
      reportReceipts(res, st);
    }
  }

  /** The receipt lines, figures and failures of a step run with {@code --receipts}. */
  private void reportReceipts(Result res, Step st) {
    Receipts r = st.receipts();
    ReceiptLedger.Counts c = r.counts();
    double perSecond = r.framesInWindow() / st.seconds();
    double cpu = st.cpu1().server() - st.cpu0().server();
    double perFrame = cpu * 1e6 / Math.max(1, st.deliveredInCpuWindow() + r.framesInCpuWindow());
    res.put("delivered_receipts_due", c.deliveredDue()).put("delivered_receipts", c.delivered())
        .put("delivered_receipts_lost", c.deliveredLost()).put("delivered_receipts_duplicates", c.deliveredDuplicates())
        .put("reads_sent", c.readsSent()).put("read_receipts_due", c.readsDue()).put("read_receipts", c.reads())
        .put("read_receipts_lost", c.readsLost()).put("read_receipts_duplicates", c.readsDuplicates())
        .put("receipts_foreign", c.foreign()).put("reads_refused", r.refusedReads())
        .put("receipts_per_s", Result.round(perSecond)).put("server_cpu_us_per_frame_out", Result.round(perFrame));
    res.line("delivered receipts", String.format(Locale.ROOT, "%s of %s due (lost %d, doubled %d)", Result.n(c.delivered()),
        Result.n(c.deliveredDue()), c.deliveredLost(), c.deliveredDuplicates()));
    res.line("read receipts", String.format(Locale.ROOT, "%s of %s due from %s reads sent (lost %d, doubled %d, reads "
        + "refused %d)", Result.n(c.reads()), Result.n(c.readsDue()), Result.n(c.readsSent()), c.readsLost(),
        c.readsDuplicates(), r.refusedReads()));
    res.line("receipts/s", Result.rate(perSecond) + " receipt frames/s received during the measured window (both kinds; "
        + Result.n(c.foreign()) + " foreign)");
    res.line("server cpu per frame out", Result.f(perFrame) + " us per member copy or receipt ("
        + Result.n(st.deliveredInCpuWindow()) + " copies + " + Result.n(r.framesInCpuWindow()) + " receipts)");
    res.line("room receipts", String.format(Locale.ROOT, "rooms=%d members=%d in=%s/s copies=%s/s receipts=%s/s "
        + "cpu_us_per_delivery=%s cpu_us_per_frame=%s lost=%d dup=%d", rooms, members, Result.rate(st.rate()),
        Result.rate(st.perSecond()), Result.rate(perSecond), Result.f(st.cpuMicrosPerDelivery()), Result.f(perFrame),
        c.deliveredLost() + c.readsLost(), c.deliveredDuplicates() + c.readsDuplicates()));
    if (!r.clean()) {
      res.fail("receipts: delivered lost " + c.deliveredLost() + ", doubled " + c.deliveredDuplicates() + "; read lost "
          + c.readsLost() + ", doubled " + c.readsDuplicates() + "; foreign " + c.foreign() + "; reads refused "
          + r.refusedReads() + (r.refusedReads() > 0 ? " (last code " + loop.call(this::lastError) + ")" : ""));
    }
  }

  private String lastError() {
    for (WsUser u : users) {
      if (u.lastError != null) {
        return u.lastError;
      }
    }
    return "none";
  }

  private void findMax(Result res, double start, double warmup, double drain) {
    RateSearch<Step> search = new RateSearch<>(a, start, 1);
    // rooms judge at 100 ms (the bar) unless --p99-limit says otherwise; RateSearch reads 50 by default
    double limitMs = a.has("p99-limit") ? search.limitMs : 100;
    res.put("step_s", search.stepSeconds).put("p99_limit_ms", limitMs);
    res.line("load", String.format(Locale.ROOT, "%d room(s) of %d members, %d sender(s) per room; rate steps of %.0f s from "
        + "%s room msg/s, x%.2f up until a step fails, then bisect; pass = p99 < %.0f ms of every member copy and nothing "
        + "lost", rooms, members, senders, search.stepSeconds, Result.rate(start), search.factor, limitMs));
    while (search.going()) {
      Step st = quietPhase(search.rate, search.warmup(warmup), search.stepSeconds, drain);
      boolean pass = st.clean() && st.p99ms() < limitMs;
      search.show(st.columns() + String.format(Locale.ROOT, " %6.1f  %s", st.cpuMicrosPerDelivery(), pass ? "pass" : "FAIL"));
      search.record(st, pass);
    }
    res.line("steps", search.table(String.format(Locale.ROOT, "%n%10s %12s %9s %9s %9s %8s %6s%n", "in/s",
        "delivered/s", "p50 ms", "p99 ms", "max ms", "lost", "us/dlv")));
    Step best = search.best();
    if (best != null) {
      res.put("max_rate", best.rate()).put("delivered_per_s", Result.round(best.perSecond())).put("lost", best.lost());
      res.latency("latency at max rate", "latency", best.latency());
      res.cpu(best.cpu0(), best.cpu1(), best.deliveredInCpuWindow(), "delivery");
      if (best.receipts() != null) {
        reportReceipts(res, best);
      }
      res.line("max rate", Result.rate(best.rate()) + " room msg/s in, " + Result.rate(best.perSecond())
          + " deliveries/s out, with p99 < " + Result.f(limitMs) + " ms and nothing lost" + search.bounds(" msg/s"));
      res.line("rooms", String.format(Locale.ROOT, "rooms=%d members=%d senders=%d max_in=%s/s out=%s/s p99_ms=%s "
          + "cpu_us_per_delivery=%s", rooms, members, senders, Result.rate(best.rate()), Result.rate(best.perSecond()),
          Result.f(best.p99ms()), Result.f(best.cpuMicrosPerDelivery())));
      res.put("budget_exhausted", search.outOfBudget());
    } else {
      res.put("max_rate", 0);
      res.line("max rate", "no step passed");
      res.fail("no rate passed");
    }
    res.memory(pid);
  }
}
