package dev.switchboard.protocol;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/protocol.md and the golden frames must say what the code does. */
class ProtocolDocsTest {

  static final Path DOC = Path.of("docs/protocol.md");
  static final Path GOLDEN = Path.of("src/test/resources/protocol");

  static String golden(String name) throws IOException {
    return Files.readString(GOLDEN.resolve(name)).trim();
  }

  /** A row of docs/protocol.md's error table. */
  record ErrorRow(int httpStatus, int failureCode, String retry, String meaning) {
  }

  /** docs/protocol.md's error table by code; fails on a code with two rows. */
  static Map<String, ErrorRow> errorTable() throws IOException {
    Pattern row = Pattern.compile("^\\| `([a-z_]+)` \\| (\\d{3}) \\| (\\d+) \\| ([a-z]+) \\| (.*) \\|$", Pattern.MULTILINE);
    Map<String, ErrorRow> rows = new HashMap<>();
    Matcher m = row.matcher(Files.readString(DOC));
    while (m.find()) {
      ErrorRow earlier = rows.put(m.group(1),
          new ErrorRow(Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), m.group(4), m.group(5).trim()));
      assertNull(earlier, "docs/protocol.md has two rows for " + m.group(1));
    }
    return rows;
  }

  @Test
  @DisplayName("every error code has one row in docs/protocol.md with its HTTP status, failure code, retry flag and meaning")
  void everyErrorCodeIsDocumented() throws IOException {
    Map<String, ErrorRow> rows = errorTable();
    for (ErrorCode code : ErrorCode.values()) {
      ErrorRow row = rows.remove(code.wireName());
      assertNotNull(row, "docs/protocol.md's error table lacks " + code.wireName());
      assertEquals(code.httpStatus(), row.httpStatus(), "HTTP status of " + code.wireName());
      assertEquals(code.failureCode(), row.failureCode(), "failure code of " + code.wireName());
      assertEquals(code.retryable() ? "yes" : "no", row.retry(), "retry of " + code.wireName());
      assertFalse(row.meaning().isEmpty(), "docs/protocol.md gives no meaning for " + code.wireName());
      assertFalse(code.meaning().isBlank(), "ErrorCode." + code + " has no meaning");
      assertTrue(code.httpStatus() >= 400 && code.httpStatus() <= 599, "HTTP status of " + code);
    }
    assertEquals(Map.of(), rows, "docs/protocol.md documents codes that ErrorCode lacks");
  }

  @Test
  @DisplayName("failure codes are distinct and map back to their code; a number no code has reads as unavailable")
  void failureCodesAreDistinct() {
    Map<Integer, ErrorCode> byNumber = new HashMap<>();
    for (ErrorCode code : ErrorCode.values()) {
      ErrorCode earlier = byNumber.put(code.failureCode(), code);
      assertNull(earlier, code + " and " + earlier + " share failure code " + code.failureCode());
      assertEquals(code, ErrorCode.fromFailureCode(code.failureCode()));
      assertEquals(code, ErrorCode.fromWireName(code.wireName()));
    }
    assertEquals(ErrorCode.UNAVAILABLE, ErrorCode.fromFailureCode(0));
    assertEquals(ErrorCode.UNAVAILABLE, ErrorCode.fromFailureCode(999));
    assertEquals(ErrorCode.UNAVAILABLE, ErrorCode.fromFailureCode(1_000_000));
  }

  /**
   * Failure codes already published, which publishers and other versions' nodes rely on. Entries
   * are only ever added: a code keeps its number for good, even if it is removed from the enum.
   */
  static final Map<String, Integer> PUBLISHED = Map.ofEntries(
        Map.entry("bad_json", 1000),
        Map.entry("unknown_type", 1001),
        Map.entry("missing_field", 1002),
        Map.entry("invalid_field", 1003),
        Map.entry("invalid_user", 1004),
        Map.entry("no_recipient", 1005),
        Map.entry("unsupported_frame", 1006),
        Map.entry("bad_encoding", 1007),
        Map.entry("bad_state", 1008),
        Map.entry("invalid_ack", 1009),
        Map.entry("invalid_token", 1010),
        Map.entry("unauthorized", 1011),
        Map.entry("forbidden", 1012),
        Map.entry("not_found", 1013),
        Map.entry("id_reused", 1014),
        Map.entry("too_large", 1015),
        Map.entry("unsupported_media_type", 1016),
        Map.entry("inbox_full", 1017),
        Map.entry("rate_limited", 1018),
        Map.entry("too_many_sessions", 1019),
        Map.entry("internal", 1020),
        Map.entry("unavailable", 1021),
        Map.entry("overloaded", 1022));

  @Test
  @DisplayName("a code's failure code never changes, and no code takes a number published for another")
  void publishedFailureCodesNeverChange() {
    for (ErrorCode code : ErrorCode.values()) {
      Integer published = PUBLISHED.get(code.wireName());
      if (published != null) {
        assertEquals(published, code.failureCode(), "the failure code of " + code.wireName() + " was published");
      } else {
        assertFalse(PUBLISHED.containsValue(code.failureCode()),
            code.wireName() + " takes failure code " + code.failureCode() + ", published for another code");
      }
    }
  }

  @Test
  @DisplayName("every close code the gateway sends has a row in docs/protocol.md's close code table")
  void everyCloseCodeIsDocumented() throws IOException, IllegalAccessException {
    String doc = Files.readString(DOC);
    for (java.lang.reflect.Field field : CloseCodes.class.getFields()) {
      if (field.getType() == short.class) {
        // Anchored at the line's start: failure codes appear in a later column of the error table.
        Pattern row = Pattern.compile("^\\| " + field.getShort(null) + " \\|", Pattern.MULTILINE);
        assertTrue(row.matcher(doc).find(), "docs/protocol.md lacks the close code row for " + field.getShort(null)
            + " (" + field.getName() + ")");
      }
    }
  }

  @Test
  @DisplayName("every golden frame appears verbatim in docs/protocol.md")
  void goldenFramesAreInTheDoc() throws IOException {
    String doc = Files.readString(DOC);
    try (Stream<Path> files = Files.walk(GOLDEN)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
        String frame = Files.readString(file).trim();
        assertTrue(doc.contains(frame), "docs/protocol.md lacks the example " + file);
      }
    }
  }

  @Test
  @DisplayName("the text format's gap line in docs/protocol.md is the one the server writes")
  void textGapLineIsInTheDoc() throws IOException {
    String line = TextFrame.gap(3, 17, true);
    assertTrue(Files.readString(DOC).contains("`" + line + "`"), "docs/protocol.md lacks the example " + line);
  }

  @Test
  @DisplayName("the golden client frames parse into the frames they show")
  void clientFramesParse() throws IOException {
    JsonFrameParser parser = new JsonFrameParser(new Ids(64), 65_536, 16, 1024);
    assertEquals(new ClientFrame.Hello("phone-1", 41L), parser.parse(golden("client/hello.json")));
    assertEquals(new ClientFrame.Send("c-17", "bob", "你好, Bob 🎉"), parser.parse(golden("client/send.json")));
    assertEquals(new ClientFrame.Send("c-19", "bob", "did it arrive?", true), parser.parse(golden("client/send-receipt.json")));
    assertEquals(new ClientFrame.Ack(42), parser.parse(golden("client/ack.json")));
    assertInstanceOf(ClientFrame.Ping.class, parser.parse(golden("client/ping.json")));
    assertEquals(new ClientFrame.Token("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IiLCJleHAiOjE3NjM4OTIwMDB9.c2lnbmF0dXJl"),
        parser.parse(golden("client/token.json")));
    assertEquals(new ClientFrame.Signal("bob", "typing", "{\"state\":\"on\"}"), parser.parse(golden("client/signal.json")));
    assertEquals(new ClientFrame.Read("bob", "3kq9x0c1f2-1a"), parser.parse(golden("client/read.json")));
    assertEquals(new ClientFrame.Read(null, "3kq9x0c1f2-1b", "team"), parser.parse(golden("client/read-room.json")));
    assertEquals(new ClientFrame.Mute("alice", true), parser.parse(golden("client/mute.json")));
    assertEquals(new ClientFrame.Mute("q-6", null, "team", true), parser.parse(golden("client/mute-id.json")));
    assertEquals(new ClientFrame.MuteQuery("q-7", "alice", null), parser.parse(golden("client/muted.json")));
    assertEquals(new ClientFrame.RoomSend("c-20", "team", "Hello, team"), parser.parse(golden("client/send-room.json")));
    assertEquals(new ClientFrame.RoomCall("q-1", ClientFrame.RoomOp.CREATE, "team", null), parser.parse(golden("client/createRoom.json")));
    assertEquals(new ClientFrame.RoomCall("q-2", ClientFrame.RoomOp.ADD, "team", "carol"), parser.parse(golden("client/addMember.json")));
    assertEquals(new ClientFrame.RoomCall("q-3", ClientFrame.RoomOp.REMOVE, "team", "carol"),
        parser.parse(golden("client/removeMember.json")));
    assertEquals(new ClientFrame.RoomCall("q-4", ClientFrame.RoomOp.MEMBERS, "team", null), parser.parse(golden("client/members.json")));
    assertEquals(new ClientFrame.RoomCall("q-5", ClientFrame.RoomOp.ROOMS, null, null), parser.parse(golden("client/rooms.json")));
  }

  @Test
  @DisplayName("the server encodes frames exactly as the golden examples")
  void serverFramesEncode() throws IOException {
    List<String[]> pairs = List.of(
        new String[] {"server/accepted.json", ServerFrames.accepted("c-17", "3kq9x0c1f2-1a", 1763888400000L, true, false)},
        new String[] {"server/message.json", ServerFrames.message("3kq9x0c1f2-1b", 42, "alice", "bob", "你好, Bob 🎉", 1763888400000L)},
        new String[] {"server/message-push.json",
            ServerFrames.message("3kq9x0c1f2-1c", 43, "shop", true, "bob", "Your order has shipped", 1763888460000L)},
        new String[] {"server/synced.json", ServerFrames.synced(42)},
        new String[] {"server/gap.json", ServerFrames.gap(3, 17)},
        new String[] {"server/pong.json", ServerFrames.pong()},
        new String[] {"server/authenticated.json", ServerFrames.authenticated("bob", 1763892000_000L)},
        new String[] {"server/signal.json", ServerFrames.signal("alice", "typing", "{\"state\":\"on\"}")},
        new String[] {"server/read.json", ServerFrames.read("3kq9x0c1f2-1d", 44, "alice", "3kq9x0c1f2-1a", 1763888520000L)},
        new String[] {"server/delivered.json",
            ServerFrames.delivered("3kq9x0c1f2-1e", 45, "bob", "3kq9x0c1f2-1a.r", 1763888460000L)},
        new String[] {"server/read-room.json",
            ServerFrames.read("3kq9x0c1f2-1f", 46, "alice", "team", "3kq9x0c1f2-1b", 1763888580000L)},
        new String[] {"server/delivered-room.json",
            ServerFrames.delivered("3kq9x0c1f2-1g", 47, "carol", "team", "3kq9x0c1f2-1c.r", 1763888640000L)},
        new String[] {"server/muted.json", ServerFrames.muted("alice", true)},
        new String[] {"server/muted-id.json", ServerFrames.muted("q-7", "alice", null, true)},
        new String[] {"server/error.json", ServerFrames.error("c-18", ErrorCode.INBOX_FULL, ErrorCode.INBOX_FULL.meaning())},
        new String[] {"server/accepted-room.json",
            ServerFrames.acceptedInRoom("c-20", "3kq9x0c1f2-1e", 1763888580000L, true, false, "team", 5)},
        new String[] {"server/message-room.json", new String(new MessageFrameEncoder().message("3kq9x0c1f2-1e", 45, "alice",
            false, "bob", "team", 5, "Hello, team", 1763888580000L), java.nio.charset.StandardCharsets.UTF_8)},
        new String[] {"server/room.json",
            ServerFrames.roomEvent("3kq9x0c1f2-1f", 46, "team", 6, "added", "carol", "alice", 1763888640000L)},
        new String[] {"server/done.json", ServerFrames.roomDone("q-2", "team", 6)},
        new String[] {"server/members.json", ServerFrames.members("q-4", "team", "alice", 6, List.of("alice", "bob", "carol"))},
        new String[] {"server/rooms.json", ServerFrames.rooms("q-5", List.of("family", "team"))});
    for (String[] pair : pairs) {
      assertEquals(new JsonObject(golden(pair[0])), new JsonObject(pair[1]), pair[0]);
      assertEquals(golden(pair[0]), pair[1], pair[0] + " (field order)");
    }
  }
}
