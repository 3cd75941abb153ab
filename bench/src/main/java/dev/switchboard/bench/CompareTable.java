package dev.switchboard.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code table}: the direct runs of Switchboard and mosquitto in a JSON-lines file, side by side (medians). */
final class CompareTable {

  private CompareTable() {
  }

  private record Row(String name, String key, boolean higherIsBetter) {
  }

  static int print(Args a) {
    String file = a.str("json", null);
    if (file == null) {
      throw new IllegalArgumentException("table needs --json FILE");
    }
    List<JsonObject> sb = new ArrayList<>();
    List<JsonObject> mq = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of(file))) {
        if (line.isBlank()) {
          continue;
        }
        JsonObject j = new JsonObject(line);
        ("mosquitto".equals(j.getString("target")) ? mq : sb).add(j);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
    }
    List<Row> rows = List.of(
        new Row("max rate, p99 < 50 ms (msg/s)", "max_rate", true),
        new Row("offered rate (msg/s)", "rate", true),
        new Row("delivered (msg/s)", "delivered_per_s", true),
        new Row("latency p50 (ms)", "latency_p50_ms", false),
        new Row("latency p90 (ms)", "latency_p90_ms", false),
        new Row("latency p99 (ms)", "latency_p99_ms", false),
        new Row("latency p99.9 (ms)", "latency_p999_ms", false),
        new Row("latency max (ms)", "latency_max_ms", false),
        new Row("ack latency p99 (ms)", "accept_p99_ms", false),
        new Row("lost", "lost", false),
        new Row("server CPU (us/msg)", "server_cpu_us_per_msg", false),
        new Row("server CPU (% of a core)", "server_cpu_pct", false),
        new Row("server peak RSS (MiB)", "server_peak_rss_kib", false),
        // The generator drives each side with one event loop: near 100% of a core the side's
        // maximum is the generator's, not the server's.
        new Row("generator CPU (% of a core)", "generator_cpu_pct", false));
    System.out.println();
    System.out.println("=== compare: Switchboard (durable, v1 WebSocket) vs mosquitto (MQTT QoS 1, persistent sessions) ===");
    boolean allPass = sb.stream().allMatch(j -> j.getBoolean("pass", false))
        && mq.stream().allMatch(j -> j.getBoolean("pass", false));
    int sbAll = sb.size();
    int mqAll = mq.size();
    sb = quietOnes(sb);
    mq = quietOnes(mq);
    System.out.println(String.format(Locale.ROOT, "runs: %d Switchboard, %d mosquitto, alternated; figures are medians of %d and %d "
        + "runs%s", sbAll, mqAll, sb.size(), mq.size(), sb.size() < sbAll || mq.size() < mqAll
        ? " (runs marked NOISY left out)" : ""));
    System.out.println(String.format(Locale.ROOT, "| %-32s | %12s | %12s | %9s |", "metric", "switchboard", "mosquitto", "sb / mq"));
    System.out.println("|" + "-".repeat(34) + "|" + "-".repeat(14) + "|" + "-".repeat(14) + "|" + "-".repeat(11) + "|");
    for (Row r : rows) {
      double s = median(sb, r.key());
      double m = median(mq, r.key());
      if (Double.isNaN(s) && Double.isNaN(m)) {
        continue;
      }
      if (r.key().endsWith("_kib")) {
        s /= 1024;
        m /= 1024;
      }
      String ratio = Double.isNaN(s) || Double.isNaN(m) || m == 0 ? "" : String.format(Locale.ROOT, "%.2f", s / m);
      System.out.println(String.format(Locale.ROOT, "| %-32s | %12s | %12s | %9s |", r.name(), fmt(s), fmt(m), ratio));
    }
    boolean pass = allPass;
    System.out.println(pass ? "all runs OK" : "some runs FAILED (see their result blocks)");
    return pass ? 0 : 1;
  }

  /**
   * {@code connect-table}: the idle runs in a JSON-lines file grouped by label (3-node cluster,
   * 1-node cluster, 1 node on the log, ...): connects/s of each (median, every run) and the ratio of
   * each to the label given by {@code --baseline}.
   */
  static int printConnect(Args a) {
    String file = a.str("json", null);
    String baseline = a.str("baseline", null);
    if (file == null) {
      throw new IllegalArgumentException("connect-table needs --json FILE");
    }
    java.util.Map<String, List<JsonObject>> byLabel = new java.util.LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(Path.of(file))) {
        if (!line.isBlank()) {
          JsonObject j = new JsonObject(line);
          byLabel.computeIfAbsent(j.getString("label", ""), k -> new ArrayList<>()).add(j);
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
    }
    double base = baseline == null || !byLabel.containsKey(baseline) ? Double.NaN
        : median(quietOnes(byLabel.get(baseline)), "connects_per_s");
    double baseReady = baseline == null || !byLabel.containsKey(baseline) ? Double.NaN
        : median(quietOnes(byLabel.get(baseline)), "ready_per_s");
    System.out.println();
    System.out.println("=== connect rate: fresh v1 connections after a warm-up (medians; runs marked NOISY left out "
        + "when a quiet run of the same setup exists) ===");
    System.out.println(String.format(Locale.ROOT, "| %-28s | %12s | %-22s | %9s | %16s | %-22s | %9s | %15s |", "setup",
        "handshakes/s", "every run", "ratio", "sessions ready/s", "every run", "ratio", "server CPU/conn"));
    System.out.println("|" + "-".repeat(30) + "|" + "-".repeat(14) + "|" + "-".repeat(24) + "|" + "-".repeat(11) + "|"
        + "-".repeat(18) + "|" + "-".repeat(24) + "|" + "-".repeat(11) + "|" + "-".repeat(17) + "|");
    boolean pass = true;
    for (java.util.Map.Entry<String, List<JsonObject>> e : byLabel.entrySet()) {
      List<JsonObject> runs = quietOnes(e.getValue());
      double rate = median(runs, "connects_per_s");
      double ready = median(runs, "ready_per_s");
      for (JsonObject j : e.getValue()) {
        pass &= j.getBoolean("pass", false);
      }
      System.out.println(String.format(Locale.ROOT, "| %-28s | %12s | %-22s | %9s | %16s | %-22s | %9s | %12s us |",
          e.getKey(), fmt(rate), every(e.getValue(), "connects_per_s"), ratio(rate, base), fmt(ready),
          every(e.getValue(), "ready_per_s"), ratio(ready, baseReady), fmt(median(runs, "server_cpu_us_per_connect"))));
    }
    System.out.println("handshakes/s: WebSocket upgrades completed; sessions ready/s: sessions that got their synced frame "
        + "(directory joined, backlog read), both over the time from the first connect to the last one");
    if (baseline != null) {
      System.out.println("ratio: against " + baseline + "; * = run marked NOISY");
    }
    System.out.println(pass ? "all runs OK" : "some runs FAILED (see their result blocks)");
    return pass ? 0 : 1;
  }

  private static String every(List<JsonObject> runs, String key) {
    StringBuilder sb = new StringBuilder();
    for (JsonObject j : runs) {
      Object v = j.getValue(key);
      sb.append(sb.length() == 0 ? "" : ", ").append(v instanceof Number num ? fmt(num.doubleValue()) : "-")
          .append(j.getBoolean("noisy", false) ? "*" : "");
    }
    return sb.toString();
  }

  private static String ratio(double v, double base) {
    return Double.isNaN(v) || Double.isNaN(base) || base == 0 ? "" : String.format(Locale.ROOT, "%.2f", v / base);
  }

  /** The runs not marked noisy, or all of them when every run was. */
  private static List<JsonObject> quietOnes(List<JsonObject> runs) {
    List<JsonObject> quiet = new ArrayList<>();
    for (JsonObject j : runs) {
      if (!j.getBoolean("noisy", false)) {
        quiet.add(j);
      }
    }
    return quiet.isEmpty() ? runs : quiet;
  }

  private static String fmt(double v) {
    if (Double.isNaN(v)) {
      return "-";
    }
    return v >= 1000 || v == Math.rint(v) ? String.format(Locale.ROOT, "%,.0f", v) : Result.f(v);
  }

  private static double median(List<JsonObject> runs, String key) {
    List<Double> v = new ArrayList<>();
    for (JsonObject j : runs) {
      Object o = j.getValue(key);
      if (o instanceof Number n) {
        v.add(n.doubleValue());
      }
    }
    if (v.isEmpty()) {
      return Double.NaN;
    }
    v.sort(Double::compare);
    int k = v.size();
    return k % 2 == 1 ? v.get(k / 2) : (v.get(k / 2 - 1) + v.get(k / 2)) / 2;
  }
}
