package dev.switchboard.storage;

import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.StoredMessage;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class LogEntriesTest {

  @Test
  @DisplayName("entries read back exactly: ASCII, non-ASCII at the start, middle or end of any field, and commits far larger than their size estimate")
  void stringsRoundTrip() {
    List<String> texts = List.of("", "bob", "é", "ab€", "x".repeat(300) + "漢", "\uD83D\uDE00 emoji first",
        "ascii then \u00FF", "y".repeat(70_000), "é".repeat(40_000));
    List<StoredMessage> rows = new ArrayList<>();
    long seq = 1;
    for (String user : texts.subList(1, 7)) {
      for (String body : texts) {
        rows.add(new StoredMessage("m-" + user + "-" + seq, seq, user + "-from", user, body, 1_000 + seq));
        seq++;
      }
    }
    List<CursorUpdate> cursors = List.of(new CursorUpdate("ü", "phone-ö", 7), new CursorUpdate("bob", "d", 9));
    int[] offsets = new int[rows.size()];
    ByteBuffer entries = LogEntries.commit(rows, List.of(), cursors, 5, offsets, new int[0]).finish();

    for (int i = 0; i < rows.size(); i++) {
      StoredMessage expected = rows.get(i);
      LogEntries.MessageEntry entry = LogEntries.message(entries.duplicate().position(offsets[i]));
      assertEquals(expected.to(), entry.recipient());
      assertEquals(expected.from(), entry.sender());
      assertEquals(expected.msgId(), entry.msgId());
      assertEquals(expected.seq(), entry.seq());
      assertEquals(expected.ts(), entry.ts());
      assertEquals(0, entry.bodyBack(), "each row has its own body String here");
      assertEquals(expected.body(), entry.body());
    }
    List<CursorUpdate> replayed = new ArrayList<>();
    LogEntries.replay(entries.duplicate(), new LogEntries.Visitor() {
      @Override
      public void message(String recipient, long seq, long ts, int offset) {
      }

      @Override
      public void sendKey(String sender, String key, long createdAt, int offset) {
      }

      @Override
      public void cursor(String user, String device, long seq) {
        replayed.add(new CursorUpdate(user, device, seq));
      }

      @Override
      public void head(String user, long lastSeq) {
      }
    });
    assertEquals(cursors, replayed);
  }

  @Test
  @DisplayName("copies of one send store the body once and point back to it")
  void sharedBody() {
    String body = "shared body é";
    List<StoredMessage> rows = List.of(new StoredMessage("m1", 1, "a", "b", body, 1),
        new StoredMessage("m2", 1, "a", "c", body, 1));
    int[] offsets = new int[2];
    ByteBuffer entries = LogEntries.commit(rows, List.of(), List.of(), 1, offsets, new int[0]).finish();
    assertEquals(body, LogEntries.message(entries.duplicate().position(offsets[0])).body());
    LogEntries.MessageEntry copy = LogEntries.message(entries.duplicate().position(offsets[1]));
    assertNull(copy.body());
    assertEquals(offsets[1] - offsets[0], copy.bodyBack());
  }
}
