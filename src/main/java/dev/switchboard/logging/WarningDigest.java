package dev.switchboard.logging;

import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.StringJoiner;
import java.util.function.LongSupplier;

/**
 * One kind of warning that a single cause (a silent peer, a cluster map that fails) raises once per
 * user: at most one WARN line per interval, counting the distinct subjects since the previous line,
 * naming a few of them and the last cause. The first case after a quiet interval is written at once;
 * the cases after it wait for {@link #flush} or the next case once the interval has passed, only
 * their distinct subjects kept meanwhile. Shareable, so that a node's verticles count into one digest
 * through a local map; safe from any thread.
 */
public final class WarningDigest implements Shareable {

  /** Subjects named in a line: enough to look one up, few enough to keep the line short. */
  static final int EXAMPLES = 3;

  private final Logger log;
  private final String summary;
  private final long intervalNanos;
  private final LongSupplier nanoClock;
  private final Set<String> subjects = new LinkedHashSet<>();
  private String lastCause;
  private long lastLine;
  private boolean written;

  /**
   * Writes {@code summary} to {@code log} at WARN, its three {@code {}} filled with the number of
   * subjects since the last line, a few of them, and the last cause.
   */
  public WarningDigest(Logger log, String summary, Duration interval) {
    this(log, summary, interval, System::nanoTime);
  }

  WarningDigest(Logger log, String summary, Duration interval, LongSupplier nanoClock) {
    this.log = log;
    this.summary = summary;
    this.intervalNanos = interval.toNanos();
    this.nanoClock = nanoClock;
  }

  /** One more case about {@code subject}; written now if no line was written within the interval. */
  public void add(String subject, String cause) {
    Line line;
    synchronized (this) {
      subjects.add(subject);
      lastCause = cause;
      line = takeIfDue();
    }
    write(line);
  }

  /** Writes the cases counted since the last line, once the interval since it has passed. */
  public void flush() {
    Line line;
    synchronized (this) {
      line = takeIfDue();
    }
    write(line);
  }

  private record Line(int count, String examples, String cause) {
  }

  private Line takeIfDue() {
    long now = nanoClock.getAsLong();
    if (subjects.isEmpty() || (written && now - lastLine < intervalNanos)) {
      return null;
    }
    StringJoiner examples = new StringJoiner(", ");
    Iterator<String> named = subjects.iterator();
    for (int i = 0; i < EXAMPLES && named.hasNext(); i++) {
      examples.add(named.next());
    }
    Line line = new Line(subjects.size(), examples.toString(), lastCause);
    subjects.clear();
    lastCause = null;
    lastLine = now;
    written = true;
    return line;
  }

  private void write(Line line) {
    if (line != null) {
      log.warn(summary, line.count(), line.examples(), line.cause());
    }
  }
}
