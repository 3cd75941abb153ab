import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.storage.InboxStore;
import dev.switchboard.storage.PgInboxStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The PostgreSQL store alone, as the inbox verticle drives it: one group commit after another, each
 * of BATCH appends to random users (one in ten with an idempotency key) and a few cursor moves.
 * Prints commits/s, messages/s, the commit time and the CPU per message of PostgreSQL (the
 * postmaster's children) and of this JVM. Run with the server jar to measure on the classpath:
 *
 * <pre>java -cp switchboard-fat.jar bench/store/StoreLoad.java CONFIG_JSON URI PG_PID [BATCH USERS SECONDS]</pre>
 */
public class StoreLoad {

  public static void main(String[] args) throws Exception {
    JsonObject config = new JsonObject(Files.readString(Path.of(args[0])));
    config.getJsonObject("inbox").put("engine", "postgres").put("postgresUri", args[1]).put("maxMessagesPerUser", 100_000_000);
    long pgPid = Long.parseLong(args[2]);
    int batch = args.length > 3 ? Integer.parseInt(args[3]) : 500;
    int users = args.length > 4 ? Integer.parseInt(args[4]) : 1000;
    double seconds = args.length > 5 ? Double.parseDouble(args[5]) : 15;
    Vertx vertx = Vertx.vertx();
    InboxStore store = new PgInboxStore(vertx, InboxConfig.fromJson(config));
    await(store.open());
    Random random = new Random(7);
    run(store, random, batch, users, 3, pgPid, "warm-up");
    run(store, random, batch, users, seconds, pgPid, "measured");
    await(store.close());
    await(vertx.close());
  }

  private static void run(InboxStore store, Random random, int batch, int users, double seconds, long pgPid, String label)
      throws Exception {
    long[] commitMicros = new long[1_000_000];
    int commits = 0;
    long messages = 0;
    double pg0 = childrenCpu(pgPid);
    double me0 = selfCpu();
    long t0 = System.nanoTime();
    long end = t0 + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      List<AppendRequest> appends = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) {
        String to = "u" + random.nextInt(users);
        String id = Long.toString(random.nextLong(), 36);
        appends.add(new AppendRequest("s" + random.nextInt(users), "body " + id, System.currentTimeMillis(),
            i % 10 == 0 ? "k" + id : null, List.of(new AppendRequest.Recipient(to, id))));
      }
      List<CursorUpdate> cursors = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        cursors.add(new CursorUpdate("u" + random.nextInt(users), "d", random.nextInt(1000)));
      }
      long c0 = System.nanoTime();
      await(store.append(appends, cursors, System.currentTimeMillis()));
      commitMicros[commits++] = (System.nanoTime() - c0) / 1000;
      messages += batch;
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    double pg = childrenCpu(pgPid) - pg0;
    double me = selfCpu() - me0;
    long[] sorted = Arrays.copyOf(commitMicros, commits);
    Arrays.sort(sorted);
    System.out.printf("%s: %d commits of %d appends in %.1f s = %.0f msg/s; commit p50 %.1f ms p99 %.1f ms; "
            + "CPU per message: PostgreSQL %.1f us, store client JVM %.1f us%n", label, commits, batch, wall,
        messages / wall, sorted[commits / 2] / 1000.0, sorted[(int) (commits * 0.99)] / 1000.0,
        pg / messages * 1e6, me / messages * 1e6);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get();
  }

  /** utime + stime of the postmaster and its live children, plus what its ended children used, in seconds. */
  private static double childrenCpu(long pid) throws Exception {
    double total = cpu(pid, true);
    String children = Files.readString(Path.of("/proc/" + pid + "/task/" + pid + "/children")).trim();
    if (!children.isEmpty()) {
      for (String child : children.split(" ")) {
        total += cpu(Long.parseLong(child), false);
      }
    }
    return total;
  }

  private static double cpu(long pid, boolean withReaped) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      double ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]) + (withReaped ? Long.parseLong(f[13]) + Long.parseLong(f[14]) : 0);
      return ticks / 100.0;
    } catch (Exception e) {
      return 0; // a backend that ended meanwhile
    }
  }

  private static double selfCpu() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }
}
