package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** When a commit may start beside running ones, on a clock the test moves. */
class CommitOverlapTest {

  private static final long MS = 1_000_000L;

  private final AtomicLong now = new AtomicLong(1_000 * MS);
  private final CommitOverlap overlap = new CommitOverlap(now::get);

  /** A commit that takes {@code millis} from now, and ends. */
  private void commitTaking(long millis) {
    long started = now.get();
    now.addAndGet(millis * MS);
    overlap.committed(started);
  }

  @Test
  @DisplayName("before any commit has been timed, a commit may start beside a running one at once")
  void untimedStoreOverlapsAtOnce() {
    long started = now.get();
    assertEquals(0, overlap.waitNanos(started));
  }

  @Test
  @DisplayName("a commit starts beside a running one only once that has run twice the usual commit time")
  void waitsUntilTheRunningCommitIsHeld() {
    for (int i = 0; i < 5; i++) {
      commitTaking(10);
    }
    long youngest = now.get();
    assertEquals(20 * MS, overlap.waitNanos(youngest));
    now.addAndGet(12 * MS);
    assertEquals(8 * MS, overlap.waitNanos(youngest), "a commit of about usual length ends before another starts");
    now.addAndGet(8 * MS);
    assertEquals(0, overlap.waitNanos(youngest), "held for twice the usual time, it no longer holds the next");
    now.addAndGet(500 * MS);
    assertEquals(0, overlap.waitNanos(youngest));
  }

  @Test
  @DisplayName("the wait counts from the youngest running commit, so a new commit beside a held one waits its turn")
  void countsFromTheYoungest() {
    for (int i = 0; i < 3; i++) {
      commitTaking(10);
    }
    long held = now.get();
    now.addAndGet(25 * MS);
    assertEquals(0, overlap.waitNanos(held));
    long beside = now.get();
    now.addAndGet(5 * MS);
    assertEquals(15 * MS, overlap.waitNanos(beside));
  }

  @Test
  @DisplayName("commits held by locks, fewer than half of the latest, do not make holding look usual")
  void usualTimeIsTheMedian() {
    for (int i = 0; i < CommitOverlap.WINDOW; i++) {
      commitTaking(i % 3 == 0 ? 600 : 10);
    }
    assertEquals(10 * MS, overlap.usualNanos());
    long youngest = now.get();
    assertEquals(20 * MS, overlap.waitNanos(youngest));
  }

  @Test
  @DisplayName("the usual time follows the store: once the latest commits are slower, it is their time")
  void followsTheLatestCommits() {
    for (int i = 0; i < CommitOverlap.WINDOW; i++) {
      commitTaking(10);
    }
    for (int i = 0; i < CommitOverlap.WINDOW / 2; i++) {
      commitTaking(40);
    }
    assertEquals(40 * MS, overlap.usualNanos(), "half the window slower moves the median");
    for (int i = 0; i <= CommitOverlap.WINDOW / 2; i++) {
      commitTaking(4);
    }
    assertEquals(4 * MS, overlap.usualNanos(), "the oldest times have left the window, and most are faster");
  }
}
