package dev.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Reads a process's CPU time and memory from /proc (Linux). */
final class ProcStats {

  /** USER_HZ; 100 on every mainstream Linux build (override with -Dbench.clkTck). */
  private static final double CLK_TCK = Double.parseDouble(System.getProperty("bench.clkTck", "100"));

  private ProcStats() {
  }

  /** utime + stime of the whole process (all threads), in seconds; NaN when unreadable. */
  static double cpuSeconds(long pid) {
    return cpu(pid, true);
  }

  /** stime alone: time in the kernel (system calls, TCP on loopback). */
  static double sysSeconds(long pid) {
    return cpu(pid, false);
  }

  private static double cpu(long pid, boolean both) {
    if (pid <= 0) {
      return Double.NaN;
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // fields after the command name "(...)": state is field 3, utime 14, stime 15
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long utime = Long.parseLong(f[11]);
      long stime = Long.parseLong(f[12]);
      return ((both ? utime : 0) + stime) / CLK_TCK;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /**
   * The CPU seconds (user + system, or system only) of the children {@code pid} has waited for
   * (cutime, cstime): a PostgreSQL backend that ended between two snapshots moves its CPU time from
   * its own entry to these of the postmaster.
   */
  static double reapedChildrenCpu(long pid, boolean both) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return ((both ? Long.parseLong(f[13]) : 0) + Long.parseLong(f[14])) / CLK_TCK;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** A "VmXxx:  123 kB" line of /proc/PID/status in KiB; -1 when unreadable. */
  static long statusKib(long pid, String key) {
    if (pid <= 0) {
      return -1;
    }
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/" + pid + "/status"));
      for (String line : lines) {
        if (line.startsWith(key + ":")) {
          String v = line.substring(key.length() + 1).trim();
          return Long.parseLong(v.split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return -1;
  }

  static long rssKib(long pid) {
    return statusKib(pid, "VmRSS");
  }

  static long peakRssKib(long pid) {
    return statusKib(pid, "VmHWM");
  }

  static int threads(long pid) {
    return (int) statusKib(pid, "Threads");
  }

  /** The soft "Max open files" limit of a process; -1 when unreadable. */
  static long maxOpenFiles(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + (pid <= 0 ? "self" : Long.toString(pid)) + "/limits"))) {
        if (line.startsWith("Max open files")) {
          String[] f = line.substring("Max open files".length()).trim().split("\\s+");
          return f[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(f[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return -1;
  }

  /**
   * {@code pid} and its children (one level: a PostgreSQL postmaster and its backends, which the
   * postmaster's own /proc/PID/stat does not count), read from each /proc/PID/stat.
   */
  static long[] withChildren(long pid) {
    if (pid <= 0) {
      return new long[0];
    }
    List<Long> found = new java.util.ArrayList<>();
    found.add(pid);
    try (java.util.stream.Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          String stat = Files.readString(p.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          if (Long.parseLong(f[1]) == pid) { // field 4, ppid
            found.add(Long.parseLong(name));
          }
        } catch (IOException | RuntimeException e) {
          // gone meanwhile
        }
      }
    } catch (IOException e) {
      // no /proc
    }
    return found.stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Whether a process has ended: no /proc entry, or a zombie whose other threads are gone too (the
   * main thread turns zombie first; the last thread to exit frees the memory and closes the files).
   */
  static boolean exited(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      if (state != 'Z' && state != 'X') {
        return false;
      }
      try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
        return tasks.count() <= 1;
      }
    } catch (IOException | RuntimeException e) {
      return true;
    }
  }

  static long selfPid() {
    return ProcessHandle.current().pid();
  }

  /** Asks a JVM (the server, when it is one) for a full GC, so RSS reflects live data; false if it could not. */
  static boolean requestGc(long pid) {
    try {
      Process p = new ProcessBuilder("jcmd", Long.toString(pid), "GC.run").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * CPU seconds per thread group of a process (thread names with their numbers taken out: all
   * event-loop threads together, all GC threads together, ...), from /proc/PID/task/TID/stat.
   */
  static java.util.Map<String, Double> threadGroups(long pid) {
    java.util.Map<String, Double> groups = new java.util.TreeMap<>();
    if (pid <= 0) {
      return groups;
    }
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          int open = stat.indexOf('(');
          int close = stat.lastIndexOf(')');
          String name = stat.substring(open + 1, close).replaceAll("[0-9#]+", "#").replaceAll("#(-#)*", "#").trim();
          String[] f = stat.substring(close + 2).split(" ");
          double secs = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / CLK_TCK;
          groups.merge(name, secs, Double::sum);
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      // no such process
    }
    return groups;
  }

  /** CPU seconds all cores of the machine spent busy (not idle, not waiting for I/O), from /proc/stat. */
  static double machineBusySeconds() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
        if (line.startsWith("cpu ")) {
          String[] f = line.trim().split("\\s+");
          long busy = 0;
          for (int i = 1; i < Math.min(f.length, 9); i++) {
            if (i != 4 && i != 5) { // idle, iowait
              busy += Long.parseLong(f[i]);
            }
          }
          return busy / CLK_TCK;
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return Double.NaN;
  }

  /** Busy share (0..1) of all cores over {@code ms} milliseconds. */
  static double machineBusyShare(long ms) {
    double a = machineBusySeconds();
    long t = System.nanoTime();
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    double b = machineBusySeconds();
    return (b - a) / ((System.nanoTime() - t) / 1e9 * Runtime.getRuntime().availableProcessors());
  }

  /** Waits (at most {@code maxSeconds}) until the machine is under 15% busy for a second; false if it never was. */
  static boolean waitQuiet(double maxSeconds) {
    long deadline = System.nanoTime() + (long) (maxSeconds * 1e9);
    while (System.nanoTime() < deadline) {
      if (machineBusyShare(1000) < 0.15) {
        return true;
      }
    }
    return false;
  }

  /** Java heap in use (KiB) as {@code jcmd PID GC.heap_info} reports it; -1 when it cannot tell. */
  static long heapUsedKib(long pid) {
    try {
      Process p = new ProcessBuilder("jcmd", Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      p.waitFor(30, TimeUnit.SECONDS);
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("heap\\s+total \\d+K, used (\\d+)K").matcher(out);
      return m.find() ? Long.parseLong(m.group(1)) : -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** A snapshot of CPU seconds of the server (in all and per thread group) and of this generator. */
  record Cpu(double server, double serverSys, double self, double selfSys, double machineBusy, long nanos,
             java.util.Map<String, Double> groups, java.util.Map<String, Double> selfGroups) {
    static Cpu take(long serverPid) {
      long me = selfPid();
      return new Cpu(cpuSeconds(serverPid), sysSeconds(serverPid), cpuSeconds(me), sysSeconds(me), machineBusySeconds(),
          System.nanoTime(), threadGroups(serverPid), threadGroups(me));
    }

    /** The servers of a cluster as one: CPU seconds and thread groups summed over {@code serverPids}. */
    static Cpu take(long[] serverPids) {
      return take(serverPids, -1);
    }

    /**
     * The same, with the PostgreSQL the nodes share counted as part of the servers (its postmaster
     * {@code pgPid} and the backends running at the time; a thread group named {@code postgres}).
     */
    static Cpu take(long[] serverPids, long pgPid) {
      return take(serverPids, pgPid > 0 ? new long[] {pgPid} : new long[0]);
    }

    /** The same with several PostgreSQL servers (shards), each postmaster with its backends. */
    static Cpu take(long[] serverPids, long[] pgPids) {
      if (serverPids.length == 1 && pgPids.length == 0) {
        return take(serverPids[0]);
      }
      long[] pg = new long[0];
      for (long pgPid : pgPids) {
        long[] one = withChildren(pgPid);
        long[] joined = java.util.Arrays.copyOf(pg, pg.length + one.length);
        System.arraycopy(one, 0, joined, pg.length, one.length);
        pg = joined;
      }
      long[] all = java.util.Arrays.copyOf(serverPids, serverPids.length + pg.length);
      System.arraycopy(pg, 0, all, serverPids.length, pg.length);
      long me = selfPid();
      double cpu = 0;
      double sys = 0;
      java.util.Map<String, Double> groups = new java.util.TreeMap<>();
      for (long pid : all) {
        double c = cpuSeconds(pid);
        double k = sysSeconds(pid);
        if (Double.isNaN(c) || Double.isNaN(k)) {
          continue; // a backend that ended meanwhile
        }
        cpu += c;
        sys += k;
        threadGroups(pid).forEach((name, secs) -> groups.merge(name, secs, Double::sum));
      }
      for (long pgPid : pgPids) { // backends that ended count as long as their postmaster runs
        double reaped = reapedChildrenCpu(pgPid, true);
        cpu += reaped;
        sys += reapedChildrenCpu(pgPid, false);
        groups.merge("postgres", reaped, Double::sum);
      }
      return new Cpu(cpu, sys, cpuSeconds(me), sysSeconds(me), machineBusySeconds(), System.nanoTime(), groups,
          threadGroups(me));
    }

    /** CPU seconds used between two snapshots by everything but the server and this generator (approximate). */
    static double others(Cpu a, Cpu b) {
      return (b.machineBusy() - a.machineBusy()) - (b.server() - a.server()) - (b.self() - a.self());
    }

    static boolean noisy(Cpu a, Cpu b) {
      return others(a, b) > 0.3 * (b.nanos() - a.nanos()) / 1e9;
    }

    static String topGroups(Cpu a, Cpu b, int n) {
      return top(a.groups(), b.groups(), n);
    }

    static String topSelfGroups(Cpu a, Cpu b, int n) {
      return top(a.selfGroups(), b.selfGroups(), n);
    }

    /** The thread groups that used the most CPU between two snapshots, as text. */
    private static String top(java.util.Map<String, Double> a, java.util.Map<String, Double> b, int n) {
      java.util.List<java.util.Map.Entry<String, Double>> d = new java.util.ArrayList<>();
      for (java.util.Map.Entry<String, Double> e : b.entrySet()) {
        double delta = e.getValue() - a.getOrDefault(e.getKey(), 0.0);
        if (delta > 0.005) {
          d.add(java.util.Map.entry(e.getKey(), delta));
        }
      }
      d.sort((x, y) -> Double.compare(y.getValue(), x.getValue()));
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < Math.min(n, d.size()); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        sb.append(String.format(java.util.Locale.ROOT, "%s %.2f s", d.get(i).getKey(), d.get(i).getValue()));
      }
      return sb.toString();
    }
  }
}
