package dev.switchboard.gateway;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DeliverySequencerTest {

  /** Records what the sequencer asked for, as readable strings. */
  static final class Recorder implements DeliverySequencer.Output<Long> {
    final List<String> events = new ArrayList<>();

    @Override
    public void deliver(Long seq) {
      events.add("deliver " + seq);
    }

    @Override
    public void gap(long fromSeq, long toSeq) {
      events.add("gap " + fromSeq + ".." + toSeq);
    }

    @Override
    public void read(Long afterSeq) {
      events.add("read " + afterSeq);
    }

    @Override
    public void synced(long seq) {
      events.add("synced " + seq);
    }
  }

  Recorder out;
  DeliverySequencer<Long> sequencer;

  @BeforeEach
  void setUp() {
    out = new Recorder();
    sequencer = new DeliverySequencer<>(out, Long::longValue);
  }

  @Test
  @DisplayName("the backlog is delivered before live messages that arrived while it was read")
  void backlogFirst() {
    sequencer.start(null);
    sequencer.onLive(4L);
    sequencer.onLive(5L);
    sequencer.onPage(0, 3, List.of(1L, 2L, 3L), 10);
    assertEquals(List.of("read null", "deliver 1", "deliver 2", "deliver 3", "deliver 4", "deliver 5", "synced 5"), out.events);
  }

  @Test
  @DisplayName("a live message already in the backlog page is not delivered twice")
  void noDoubles() {
    sequencer.start(0L);
    sequencer.onLive(3L);
    sequencer.onPage(0, 3, List.of(1L, 2L, 3L), 10);
    sequencer.onLive(3L);
    sequencer.onLive(4L);
    assertEquals(List.of("read 0", "deliver 1", "deliver 2", "deliver 3", "synced 3", "deliver 4"), out.events);
  }

  @Test
  @DisplayName("full pages are followed by a read of the next page")
  void paging() {
    sequencer.start(0L);
    sequencer.onPage(0, 5, List.of(1L, 2L), 2);
    sequencer.onPage(2, 5, List.of(3L, 4L), 2);
    sequencer.onPage(4, 5, List.of(5L), 2);
    assertEquals(List.of("read 0", "deliver 1", "deliver 2", "read 2", "deliver 3", "deliver 4", "read 4", "deliver 5", "synced 5"),
        out.events);
  }

  @Test
  @DisplayName("a live message that skips a seq makes the session read the missing one instead of jumping")
  void holeTriggersRead() {
    sequencer.start(0L);
    sequencer.onPage(0, 0, List.of(), 10);
    sequencer.onLive(2L);
    sequencer.onPage(0, 2, List.of(1L, 2L), 10);
    assertEquals(List.of("read 0", "synced 0", "read 0", "deliver 1", "deliver 2"), out.events);
  }

  @Test
  @DisplayName("messages removed by retention are reported as a gap, before and after the first retained one")
  void gaps() {
    sequencer.start(0L);
    sequencer.onPage(0, 6, List.of(4L, 5L), 10);
    assertEquals(List.of("read 0", "gap 1..3", "deliver 4", "deliver 5", "gap 6..6", "synced 6"), out.events);
  }

  @Test
  @DisplayName("after a pause of live delivery, the session reads from its last delivered seq")
  void resync() {
    sequencer.start(0L);
    sequencer.onPage(0, 2, List.of(1L, 2L), 10);
    sequencer.resync();
    sequencer.onPage(2, 4, List.of(3L, 4L), 10);
    assertEquals(List.of("read 0", "deliver 1", "deliver 2", "synced 2", "read 2", "deliver 3", "deliver 4"), out.events);
  }

  @Test
  @DisplayName("a device claiming a seq beyond the inbox head restarts from the head")
  void sinceBeyondHead() {
    sequencer.start(50L);
    sequencer.onPage(50, 3, List.of(), 10);
    sequencer.onLive(4L);
    assertEquals(List.of("read 50", "synced 3", "deliver 4"), out.events);
  }
}
