package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UserLogTest {

  /** Seqs and positions of up to {@code limit} messages after {@code after}, as "seq@position" pairs. */
  private static String[] page(UserLog log, long after, long notBefore, int limit) {
    long[] positions = new long[limit];
    long[] seqs = new long[limit];
    int n = log.positionsAfter(after, notBefore, limit, positions, seqs);
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      out[i] = seqs[i] + "@" + positions[i];
    }
    return out;
  }

  @Test
  @DisplayName("a page starts after 'after', stops at the limit and skips messages sent before 'notBefore'")
  void pages() {
    UserLog log = new UserLog();
    for (int seq = 1; seq <= 10; seq++) {
      log.add(seq, seq * 100L, seq == 4 ? 0 : 1_000);
    }
    assertEquals(new InboxHead(10, 10), log.head());
    assertArrayEquals(new String[] {"3@300", "5@500", "6@600"}, page(log, 2, 1, 3));
    assertArrayEquals(new String[] {"9@900", "10@1000"}, page(log, 8, 0, 5));
    assertArrayEquals(new String[] {}, page(log, 10, 0, 5));
  }

  @Test
  @DisplayName("dropping by age keeps the head, counts what went, and pages go on from the oldest left")
  void dropByAge() {
    UserLog log = new UserLog();
    for (int seq = 1; seq <= 6; seq++) {
      log.add(seq, seq, seq * 10L);
    }
    assertEquals(3, log.dropOlderThan(35));
    assertEquals(new InboxHead(6, 3), log.head());
    assertArrayEquals(new String[] {"4@4", "5@5", "6@6"}, page(log, 0, 0, 10));
    assertEquals(3, log.dropOlderThan(1_000));
    assertEquals(new InboxHead(6, 0), log.head());
    log.add(7, 70, 2_000);
    assertArrayEquals(new String[] {"7@70"}, page(log, 0, 0, 10));
  }

  @Test
  @DisplayName("seqs skipped (lost to a repair) are holes reads skip, older messages stay readable; a checkpoint head only raises lastSeq")
  void holesAndHeads() {
    UserLog log = new UserLog();
    log.advanceTo(41);
    assertEquals(new InboxHead(41, 0), log.head());
    log.add(42, 1, 0);
    log.add(43, 2, 0);
    log.add(50, 3, 0);
    assertEquals(new InboxHead(50, 3), log.head());
    assertArrayEquals(new String[] {"42@1", "43@2", "50@3"}, page(log, 0, 0, 10));
    assertArrayEquals(new String[] {"50@3"}, page(log, 43, 0, 10));
    log.advanceTo(12);
    assertEquals(50, log.lastSeq());
    assertEquals(3, log.dropOlderThan(1));
    assertEquals(new InboxHead(50, 0), log.head());
  }

  @Test
  @DisplayName("a hole longer than MAX_HOLE starts the stored run afresh instead of filling memory")
  void hugeHoleRestarts() {
    UserLog log = new UserLog();
    log.add(1, 1, 0);
    log.add(3 + UserLog.MAX_HOLE, 2, 0);
    assertEquals(new InboxHead(3 + UserLog.MAX_HOLE, 1), log.head());
    assertArrayEquals(new String[] {(3 + UserLog.MAX_HOLE) + "@2"}, page(log, 0, 0, 10));
  }

  @Test
  @DisplayName("a seq at or below the head is refused: a seq is never stored twice")
  void repeatedSeqRefused() {
    UserLog log = new UserLog();
    log.add(1, 1, 0);
    log.add(2, 2, 0);
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> log.add(2, 3, 0));
  }

  @Test
  @DisplayName("a long-lived inbox written and trimmed many times keeps every position right")
  void churn() {
    UserLog log = new UserLog();
    long seq = 0;
    for (int round = 0; round < 50; round++) {
      for (int i = 0; i < 1_000; i++) {
        seq++;
        log.add(seq, seq * 3, seq);
      }
      log.dropOlderThan(seq - 300);
    }
    String[] page = page(log, seq - 5, 0, 10);
    String[] expected = new String[5];
    for (int i = 0; i < 5; i++) {
      long s = seq - 4 + i;
      expected[i] = s + "@" + s * 3;
    }
    assertArrayEquals(expected, page);
    assertEquals(301, log.stored(), Arrays.toString(page));
  }

  @Test
  @DisplayName("entries below an indexed segment's end leave the heap but stay counted; reads before the tail go to the index")
  void sealBelow() {
    UserLog log = new UserLog();
    for (int seq = 1; seq <= 6; seq++) {
      log.add(seq, seq * 100L, 1_000);
    }
    assertEquals(3, log.sealBelow(350));
    assertEquals(100, log.sealedFrom(), "reads search sealed segments from the one holding the first sealed message");
    assertEquals(300, log.sealedTo(), "to the one holding the last");
    assertEquals(new InboxHead(6, 6), log.head());
    assertEquals(3, log.tailEntries());
    assertArrayEquals(new String[] {"4@400", "5@500"}, page(log, 0, 0, 2));
    assertTrue(log.readsIndex(0));
    assertTrue(log.readsIndex(2));
    assertFalse(log.readsIndex(3));
  }

  @Test
  @DisplayName("an expired sealed segment takes out of the count only what is still counted, not what left by age before")
  void sealedGoneCountsOnce() {
    UserLog log = new UserLog();
    log.addSealed(4, 1, 4, 0);
    assertEquals(0, log.sealedFrom());
    assertEquals(0, log.sealedTo());
    for (int seq = 5; seq <= 12; seq++) {
      log.add(seq, seq * 100L, seq * 10L);
    }
    // Seqs 5 and 6 leave by age while their segment (seqs 5-8) is still in the tail, and the older
    // sealed seqs 1-4 with them.
    assertEquals(6, log.dropOlderThan(65));
    assertEquals(2, log.sealBelow(850));
    assertEquals(700, log.sealedFrom(), "the counted sealed messages start afresh after the old ones left");
    assertEquals(4, log.sealBelow(1250));
    assertEquals(1200, log.sealedTo());
    assertEquals(new InboxHead(12, 6), log.head());
    assertEquals(0, log.sealedGone(4, 1, 4));
    assertEquals(2, log.sealedGone(4, 5, 8));
    assertEquals(new InboxHead(12, 4), log.head());
    assertTrue(log.readsIndex(8));
    assertEquals(4, log.sealedGone(4, 9, 12));
    assertEquals(new InboxHead(12, 0), log.head());
    assertFalse(log.readsIndex(8));
  }

  @Test
  @DisplayName("sealed messages taken at open as one run, with only a lower bound of their first seq, count and leave with their segments exactly as when taken segment by segment")
  void sealedRunLeavesLikeSegments() {
    UserLog bySegment = new UserLog();
    bySegment.addSealed(3, 5, 7, 100);
    bySegment.addSealed(2, 8, 9, 200);
    bySegment.addSealed(4, 10, 13, 300);
    UserLog byRun = new UserLog();
    // Its first segment was deleted since its ledger began: the run's first seq is a bound, its range wider.
    byRun.addSealedRun(9, 1, 13, 50, 300);
    assertEquals(bySegment.head(), byRun.head());
    assertEquals(bySegment.sealedTo(), byRun.sealedTo());
    assertTrue(byRun.sealedFrom() <= bySegment.sealedFrom(), "a wider range to search, never a narrower one");
    assertEquals(bySegment.sealedGone(3, 5, 7), byRun.sealedGone(3, 5, 7));
    assertEquals(bySegment.head(), byRun.head());
    byRun.add(14, 400, 1_000);
    bySegment.add(14, 400, 1_000);
    assertEquals(bySegment.sealedGone(2, 8, 9), byRun.sealedGone(2, 8, 9));
    assertEquals(bySegment.sealedGone(4, 10, 13), byRun.sealedGone(4, 10, 13));
    assertEquals(bySegment.head(), byRun.head());
    assertEquals(1, byRun.stored(), "only the tail message is left");
  }
}
