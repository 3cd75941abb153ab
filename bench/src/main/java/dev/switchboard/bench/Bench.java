package dev.switchboard.bench;

import java.util.Set;

/**
 * Entry point: {@code java -jar switchboard-bench.jar SCENARIO [--option value ...]}. The server (or
 * broker) is started and stopped by {@code bench/bench.sh}; this tool only generates load against it,
 * counts, and reads the server's CPU and memory from /proc by {@code --server-pid}.
 */
public final class Bench {

  private Bench() {
  }

  public static void main(String[] argv) {
    if (argv.length == 0 || argv[0].equals("help") || argv[0].equals("--help")) {
      usage();
      System.exit(argv.length == 0 ? 2 : 0);
    }
    String scenario = argv[0];
    quietLogging();
    int code;
    try {
      Args a = new Args(argv, 1);
      startWatchdog(a.lng("timeout", 300));
      a.has("push-port"); // bench.sh passes the ports to every scenario
      code = switch (scenario) {
        case "direct", "smoke" -> new DirectRun(a, false).run(scenario);
        case "mqtt" -> new DirectRun(a, true).run("direct");
        case "idle" -> new IdleRun(a).run();
        case "backlog" -> new BacklogRun(a).run();
        case "fanout" -> new FanoutRun(a).run();
        case "rooms" -> new RoomRun(a).run();
        case "storm" -> new StormRun(a).run();
        case "cluster-fanout" -> new ClusterFanoutRun(a).run();
        case "table" -> CompareTable.print(a);
        case "connect-table" -> CompareTable.printConnect(a);
        default -> {
          System.err.println("unknown scenario: " + scenario);
          usage();
          yield 2;
        }
      };
      Set<String> unused = a.unused();
      if (!unused.isEmpty()) {
        System.err.println("warning: options not used by " + scenario + ": " + unused);
      }
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      code = 2;
    } catch (RuntimeException e) {
      System.err.println("error: " + e);
      e.printStackTrace();
      code = 1;
    }
    if (Loop.UNHANDLED.get() > 0) {
      System.out.println("RESULT: FAIL (" + Loop.UNHANDLED.get() + " unhandled exceptions in the generator; the first are on stderr)");
      code = Math.max(code, 1);
    }
    System.out.flush();
    // exit (so shutdown hooks such as a JFR recording's dump run), but never hang on the way out
    int exitCode = code;
    Thread halt = new Thread(() -> {
      try {
        Thread.sleep(15_000);
      } catch (InterruptedException e) {
        return;
      }
      Runtime.getRuntime().halt(exitCode);
    }, "bench-exit");
    halt.setDaemon(true);
    halt.start();
    System.exit(code);
  }

  /** Vert.x and its MQTT client log through java.util.logging; per-connection INFO lines are noise here. */
  private static void quietLogging() {
    java.util.logging.Logger root = java.util.logging.LogManager.getLogManager().getLogger("");
    root.setLevel(java.util.logging.Level.WARNING);
    for (java.util.logging.Handler h : root.getHandlers()) {
      h.setLevel(java.util.logging.Level.WARNING);
    }
  }

  /** Every run stops by itself: past {@code seconds} the process ends with exit code 3. */
  private static void startWatchdog(long seconds) {
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(seconds * 1000);
      } catch (InterruptedException e) {
        return;
      }
      System.out.flush();
      System.err.println("HARD TIMEOUT: the run did not finish within " + seconds + " s (--timeout); giving up");
      Runtime.getRuntime().halt(3);
    }, "bench-watchdog");
    t.setDaemon(true);
    t.start();
  }

  /** Refuses a run that cannot fit the open-file limits of this process or of the server. */
  static void checkFds(long needed, long serverPid, String what) {
    long mine = ProcStats.maxOpenFiles(-1);
    if (mine > 0 && needed > mine) {
      throw new IllegalArgumentException("this run needs about " + needed + " open files but the generator may open only "
          + mine + " (ulimit -n, already raised to the hard limit by bench.sh; only a higher hard limit helps)");
    }
    long theirs = serverPid > 0 ? ProcStats.maxOpenFiles(serverPid) : -1;
    if (theirs > 0 && needed > theirs) {
      throw new IllegalArgumentException("this run needs about " + needed + " open files but the " + what + " may open only "
          + theirs + " (its ulimit -n)");
    }
  }

  private static void usage() {
    System.err.println("""
        usage: java -jar switchboard-bench.jar SCENARIO [options]   (normally run through bench/bench.sh)
          direct   --ws-port P --server-pid PID [--users 1000 --rate 2000 --duration 20 --warmup 10 --drain 10
                   --size 100 (body bytes) --peers 1 --ack-every 50 --ack-interval-ms 1000 --strict]
                   --find-max [--step 8 --factor 1.3 --p99-limit 50 --max-steps 10 --budget 300]
          smoke    direct with 20 users at 200 msg/s for 8 s, strict: exit 1 on any loss, duplicate,
                   reordering, refusal, disconnect or gap
          mqtt     direct against an MQTT broker: --mqtt-port P --server-pid BROKER_PID (same options)
          idle     --ws-port P --server-pid PID [--connections 10000 --addresses 4 --window 256 --hold 10
                   --warmup-connections (= --connections) --warmup-rounds 4 --no-gc]
          backlog  --ws-port P --push-port P2 --server-pid PID [--users 1000 --messages 500 --push-batch U
                   --push-concurrency 4 --window 200 --drain-timeout 120]
                   [--webhook-port P --webhook-secret S --webhook-timeout 60]  (bench.sh --webhook): a receiver in
                   the generator takes the server's offline notifications of the fill, checks each signature and
                   counts them (once per stored message, by id) before the drain
          fanout   --ws-port P --push-port P2 --server-pid PID [--users 1000]
                   [--pushes 20 --warmup-pushes 100 --pause 0.3]                     one push to all, in turn
                   [--rate PUSHES_PER_S --duration 15 --warmup 30 --recipients N --http-conns 4] open loop
          rooms    --ws-port P --push-port P2 --server-pid PID [--rooms 1 --members 1000 (100 x 50 is the other shape)
                   --senders 1 (per room) --rate 100 (room messages/s in, all rooms) --duration 20 --warmup 30
                   --drain 10 --size 100 --ack-every 50 --ack-interval-ms 1000 --addresses 1
                   --setup-concurrency 8 (rooms set up at once)]
                   [--find-max --step 8 --factor 1.3 --p99-limit 100 --max-steps 10 --budget 300]
                   each user in one room; rooms made through the HTTP API; every member copy (sender's too)
                   checked per (member, room): each accepted roomSeq once, in order
                   [--receipts --read-every 10 (0 = no reads) --room-receipt-members 100]: every send asks for a
                   delivered receipt; each member, after an ack, reads its room up to its newest message once
                   --read-every messages came since its last read; each sender must get one delivered receipt
                   per other member and message, each member one read receipt per read of the others (exit 1
                   on any lost, doubled or misrouted); only rooms of at most limits.roomReceiptMembers members
          storm    --ws-ports P1,P2,P3 --push-ports Q1,Q2,Q3 --server-pids A,B,C [--connections 6000 --kill-node 2
                   (0-based, default the last) --backoff-ms 500 (0 = reconnect at once) --max-backoff-ms 30000
                   --window 256 --addresses 4 --warmup-connections 2000 (per node) --recover-timeout 120]
                   idle also takes --ws-ports/--push-ports/--server-pids: connection i goes to node i mod nodes
                   (--warmup-connections is then per node)
                   direct also takes --ws-ports/--server-pids and --pg-pid (PostgreSQL's CPU counted): user i
                   connects to node i mod nodes, so with --peers 1 every message goes to another node
          cluster-fanout --ws-ports P1,P2,P3 --push-ports Q1,Q2,Q3 --server-pids A,B,C [--pg-pid PG] [--users 1000
                   --recipients 100 --rate 20 (pushes/s) --duration 20 --warmup 30 --drain 10 --streams 32 (one push
                   in flight each; order checked per stream) --push-via one|all (node 1, or every node in turn)]
                   [--find-max --step 8 --factor 1.3 --p99-limit 50 --max-steps 10 --budget 300]
                   user i on node i mod nodes; push g to R users from g*R mod users
          table    --json FILE   (compare table of the direct/mqtt results in FILE)
          connect-table --json FILE [--baseline LABEL]   (connects/s of the idle runs in FILE, by label)
        common: --json FILE (append the result as a JSON line), --label TEXT, --timeout SECONDS (hard stop, 300)
        """);
  }
}
