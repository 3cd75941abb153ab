package dev.switchboard.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Summarises the CPU samples of a JFR recording (JDK 17 has no {@code jfr view}): samples per
 * thread group, the hottest methods by own time, and by inclusive time (a method counted once per
 * sample however deep it recurses); with a regex, also the share of samples with any frame whose
 * class matches it (e.g. the meters: {@code io\.micrometer|io\.vertx\.micrometer|dev\.switchboard\.metrics}).
 * {@code java -cp switchboard-bench.jar dev.switchboard.bench.JfrTop server.jfr [rows] [thread-filter] [class-regex]}.
 */
public final class JfrTop {

  private JfrTop() {
  }

  public static void main(String[] args) throws IOException {
    Path file = Path.of(args[0]);
    int rows = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    String threadFilter = args.length > 2 && !args[2].isEmpty() ? args[2] : null;
    Pattern share = args.length > 3 ? Pattern.compile(args[3]) : null;
    int matching = 0;
    Map<String, Integer> byThread = new HashMap<>();
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> inclusive = new HashMap<>();
    int total = 0;
    for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
      if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
        continue;
      }
      String thread = threadGroup(event.getThread("sampledThread") == null ? "?" : event.getThread("sampledThread").getJavaName());
      if (threadFilter != null && !thread.contains(threadFilter)) {
        continue;
      }
      RecordedStackTrace stack = event.getStackTrace();
      if (stack == null || stack.getFrames().isEmpty()) {
        continue;
      }
      total++;
      byThread.merge(thread, 1, Integer::sum);
      List<RecordedFrame> frames = stack.getFrames();
      self.merge(name(frames.get(0)), 1, Integer::sum);
      if (share != null && frames.stream().anyMatch(f -> share.matcher(f.getMethod().getType().getName()).find())) {
        matching++;
      }
      Set<String> seen = new HashSet<>();
      for (RecordedFrame frame : frames) {
        String name = name(frame);
        if (seen.add(name)) {
          inclusive.merge(name, 1, Integer::sum);
        }
      }
    }
    System.out.printf("%d samples%n", total);
    if (share != null) {
      System.out.printf("with a frame of a class matching %s: %d (%.2f%%)%n", share.pattern(), matching, 100.0 * matching / Math.max(1, total));
    }
    System.out.printf("%nby thread group:%n");
    print(byThread, total, rows);
    System.out.printf("%nself:%n");
    print(self, total, rows);
    System.out.printf("%ninclusive:%n");
    print(inclusive, total, rows * 2);
  }

  private static String name(RecordedFrame frame) {
    return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
  }

  /** vert.x-eventloop-thread-3 -> vert.x-eventloop-thread-*: one line per pool, not per thread. */
  private static String threadGroup(String thread) {
    return thread == null ? "?" : thread.replaceAll("-\\d+$", "-*");
  }

  private static void print(Map<String, Integer> counts, int total, int rows) {
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(rows)
        .forEach(e -> System.out.printf("%6.1f%%  %s%n", 100.0 * e.getValue() / total, e.getKey()));
  }
}
