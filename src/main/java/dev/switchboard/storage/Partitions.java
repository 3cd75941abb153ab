package dev.switchboard.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;

/**
 * The time partitions of the PostgreSQL messages table: ranges of {@code created_at} of one width,
 * aligned on multiples of it, named by their first millisecond. Pure arithmetic, so the rules
 * (which to create ahead, which retention may drop) are tested without a database.
 */
final class Partitions {

  private final long widthMillis;
  private final long retentionMillis;
  private final long purgeIntervalMillis;

  Partitions(long widthMillis, long retentionMillis, long purgeIntervalMillis) {
    this.widthMillis = widthMillis;
    this.retentionMillis = retentionMillis;
    this.purgeIntervalMillis = purgeIntervalMillis;
  }

  long widthMillis() {
    return widthMillis;
  }

  long startOf(long createdAt) {
    return Math.floorDiv(createdAt, widthMillis) * widthMillis;
  }

  /**
   * The starts of the partitions wanted at {@code now}: the one before now's (a node whose clock is
   * a little behind still finds its range), now's, and enough after it that writes until the purge
   * after next find theirs; none already past retention.
   */
  List<Long> wanted(long now) {
    long first = startOf(now) - widthMillis;
    long last = startOf(now + purgeIntervalMillis * 2 + widthMillis);
    List<Long> starts = new ArrayList<>();
    for (long start = first; start <= last; start += widthMillis) {
      if (start + widthMillis > now - retentionMillis) {
        starts.add(start);
      }
    }
    return starts;
  }

  /** The partitions every row of which is past retention at {@code cutoff}: those ending at or before it. */
  List<Long> expired(SortedSet<Long> existing, long cutoff) {
    List<Long> starts = new ArrayList<>();
    for (long start : existing) {
      if (start + widthMillis <= cutoff) {
        starts.add(start);
      }
    }
    return starts;
  }

  /** A start is written in the name with {@code n} for a minus sign, which a table name cannot hold unquoted. */
  static String name(String prefix, long start) {
    return prefix + (start < 0 ? "n" + -start : Long.toString(start));
  }

  /** The start a partition's name gives, or null if the name is not one of ours. */
  static Long startOf(String name, String prefix) {
    if (!name.startsWith(prefix)) {
      return null;
    }
    String digits = name.substring(prefix.length());
    boolean negative = digits.startsWith("n");
    if (negative) {
      digits = digits.substring(1);
    }
    if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)) {
      return null;
    }
    long value = Long.parseLong(digits);
    return negative ? -value : value;
  }
}
