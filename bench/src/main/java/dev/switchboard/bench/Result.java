package dev.switchboard.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One run's figures: printed as an aligned block, and kept as one JSON line for tables. */
final class Result {

  final JsonObject json = new JsonObject();
  private final List<String[]> lines = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final String title;

  Result(String scenario, String target, String label) {
    this.title = scenario + " (" + target + ")";
    json.put("scenario", scenario).put("target", target).put("label", label);
  }

  Result line(String label, String text) {
    lines.add(new String[] {label, text});
    return this;
  }

  Result put(String key, Object value) {
    if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
      json.putNull(key);
    } else {
      json.put(key, value);
    }
    return this;
  }

  void fail(String why) {
    failures.add(why);
  }

  void note(String text) {
    notes.add(text);
  }

  boolean passed() {
    return failures.isEmpty();
  }

  /** p50/p90/p99/p99.9/max in ms of a µs histogram, as JSON {@code prefix_p50} ... and one line. */
  void latency(String label, String prefix, Histogram h) {
    if (h.getTotalCount() == 0) {
      line(label, "(no samples)");
      return;
    }
    double p50 = ms(h.getValueAtPercentile(50));
    double p90 = ms(h.getValueAtPercentile(90));
    double p99 = ms(h.getValueAtPercentile(99));
    double p999 = ms(h.getValueAtPercentile(99.9));
    double max = ms(h.getMaxValue());
    put(prefix + "_p50_ms", p50).put(prefix + "_p90_ms", p90).put(prefix + "_p99_ms", p99)
        .put(prefix + "_p999_ms", p999).put(prefix + "_max_ms", max).put(prefix + "_samples", h.getTotalCount());
    line(label, String.format(Locale.ROOT, "p50 %s  p90 %s  p99 %s  p99.9 %s  max %s ms  (%d samples)",
        f(p50), f(p90), f(p99), f(p999), f(max), h.getTotalCount()));
  }

  /** p99 of each second of the window, in order: a tail from one stall shows as one high second. */
  void latencyBySecond(String label, String key, Histogram[] seconds) {
    JsonArray p99s = new JsonArray();
    StringBuilder text = new StringBuilder();
    for (Histogram h : seconds) {
      double p99 = h.getTotalCount() == 0 ? Double.NaN : ms(h.getValueAtPercentile(99));
      p99s.add(Double.isNaN(p99) ? null : p99);
      text.append(text.length() == 0 ? "" : " ").append(Double.isNaN(p99) ? "-" : String.valueOf(Math.round(p99)));
    }
    put(key, p99s);
    line(label, text.toString());
  }

  static double ms(long micros) {
    return micros / 1000.0;
  }

  static String f(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  static String n(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }

  static String rate(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%,.0f", v);
  }

  /** Server and generator CPU between two snapshots, with CPU µs per unit of work. */
  void cpu(ProcStats.Cpu a, ProcStats.Cpu b, long units, String unitName) {
    double wall = (b.nanos() - a.nanos()) / 1e9;
    double server = b.server() - a.server();
    double self = b.self() - a.self();
    double perUnit = units > 0 ? server * 1e6 / units : Double.NaN;
    put("server_cpu_s", round(server)).put("server_cpu_pct", round(100 * server / wall))
        .put("server_cpu_us_per_" + unitName, round(perUnit))
        .put("generator_cpu_s", round(self)).put("generator_cpu_pct", round(100 * self / wall))
        .put("cpu_window_s", round(wall));
    double serverSys = b.serverSys() - a.serverSys();
    double selfSys = b.selfSys() - a.selfSys();
    put("server_cpu_sys_s", round(serverSys)).put("generator_cpu_sys_s", round(selfSys));
    line("server cpu", String.format(Locale.ROOT, "%.2f s (~%.2f s of it in the kernel) over %.1f s (%.0f%% of one core)"
        + "  =  %s us per %s", server, serverSys, wall, 100 * server / wall, f(perUnit), unitName));
    double busy = b.machineBusy() - a.machineBusy();
    double other = busy - server - self;
    int cores = Runtime.getRuntime().availableProcessors();
    put("machine_busy_pct", round(100 * busy / (wall * cores))).put("other_processes_cpu_s", round(other));
    line("machine", String.format(Locale.ROOT, "%.0f%% of %d cores busy; everything else (other processes, kernel threads) "
        + "~%.1f s of CPU%s", 100 * busy / (wall * cores), cores, Math.max(0, other),
        ProcStats.Cpu.noisy(a, b) ? "  (NOISY: something else was running)" : ""));
    if (ProcStats.Cpu.noisy(a, b)) {
      put("noisy", true);
    }
    String groups = ProcStats.Cpu.topGroups(a, b, 6);
    if (!groups.isEmpty()) {
      line("server cpu by thread", groups);
      put("server_cpu_threads", groups);
    }
    line("generator cpu", String.format(Locale.ROOT, "%.2f s (~%.2f s in the kernel; %.0f%% of one core): %s", self, selfSys,
        100 * self / wall, ProcStats.Cpu.topSelfGroups(a, b, 3)));
  }

  void memory(long pid) {
    long rss = ProcStats.rssKib(pid);
    long hwm = ProcStats.peakRssKib(pid);
    put("server_rss_kib", rss).put("server_peak_rss_kib", hwm);
    line("server memory", String.format(Locale.ROOT, "RSS %s MiB, peak RSS (VmHWM) %s MiB, %d threads",
        f(rss / 1024.0), f(hwm / 1024.0), ProcStats.threads(pid)));
  }

  static double round(double v) {
    return Double.isNaN(v) ? v : Math.round(v * 100) / 100.0;
  }

  void print(PrintStream out) {
    out.println();
    out.println("=== switchboard-bench: " + title + " ===");
    int w = 0;
    for (String[] l : lines) {
      w = Math.max(w, l[0].length());
    }
    for (String[] l : lines) {
      out.println(String.format(Locale.ROOT, "%-" + w + "s : %s", l[0], l[1]));
    }
    for (String n : notes) {
      out.println("note: " + n);
    }
    json.put("pass", passed());
    if (!failures.isEmpty()) {
      json.put("failures", String.join("; ", failures));
    }
    out.println(passed() ? "RESULT: OK" : "RESULT: FAIL - " + String.join("; ", failures));
    out.flush();
  }

  void save(String path) {
    if (path == null) {
      return;
    }
    try {
      Files.writeString(Path.of(path), json.encode() + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.err.println("could not append to " + path + ": " + e.getMessage());
    }
  }
}
