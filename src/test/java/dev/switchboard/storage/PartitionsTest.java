package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class PartitionsTest {

  private static final long HOUR = 3_600_000;
  private static final long MINUTE = 60_000;

  @Test
  @DisplayName("the partitions wanted are the hour before now's, now's and those the next two purges write into, "
      + "none already past retention")
  void wanted() {
    Partitions hourly = new Partitions(HOUR, 48 * HOUR, MINUTE);
    assertEquals(List.of(9 * HOUR, 10 * HOUR, 11 * HOUR), hourly.wanted(10 * HOUR + 30 * MINUTE));
    assertEquals(List.of(9 * HOUR, 10 * HOUR, 11 * HOUR, 12 * HOUR), hourly.wanted(11 * HOUR - MINUTE));
    Partitions shortRetention = new Partitions(HOUR, HOUR, MINUTE);
    assertEquals(List.of(10 * HOUR, 11 * HOUR), shortRetention.wanted(11 * HOUR + 30 * MINUTE).subList(0, 2));
  }

  @Test
  @DisplayName("a partition expires only once its last millisecond is past retention")
  void expired() {
    Partitions hourly = new Partitions(HOUR, HOUR, MINUTE);
    TreeSet<Long> existing = new TreeSet<>(List.of(0L, HOUR, 2 * HOUR));
    assertEquals(List.of(), hourly.expired(existing, HOUR - 1));
    assertEquals(List.of(0L), hourly.expired(existing, HOUR));
    assertEquals(List.of(0L), hourly.expired(existing, 2 * HOUR - 1));
    assertEquals(List.of(0L, HOUR), hourly.expired(existing, 2 * HOUR));
  }

  @Test
  @DisplayName("names carry the first millisecond, with n for a minus sign, and read back; other tables are not ours")
  void names() {
    assertEquals("messages_p7200000", Partitions.name("messages_p", 2 * HOUR));
    assertEquals("messages_pn3600000", Partitions.name("messages_p", -HOUR));
    assertEquals(-HOUR, Partitions.startOf("messages_pn3600000", "messages_p"));
    assertEquals(2 * HOUR, Partitions.startOf("messages_p7200000", "messages_p"));
    assertNull(Partitions.startOf("messages_default", "messages_p"));
    assertNull(Partitions.startOf("messages_p", "messages_p"));
  }
}
