package dev.switchboard.protocol;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/protocol.md and the golden frames must say what the code does. */
class ProtocolDocsTest {

  static final Path DOC = Path.of("docs/protocol.md");
  static final Path GOLDEN = Path.of("src/test/resources/protocol");

  static String golden(String name) throws IOException {
    return Files.readString(GOLDEN.resolve(name)).trim();
  }

  @Test
  @DisplayName("every error code has a row in docs/protocol.md with its HTTP status")
  void everyErrorCodeIsDocumented() throws IOException {
    String doc = Files.readString(DOC);
    for (ErrorCode code : ErrorCode.values()) {
      String row = "| `" + code.wireName() + "` | " + code.httpStatus() + " |";
      assertTrue(doc.contains(row), "docs/protocol.md lacks the row " + row);
    }
  }

  @Test
  @DisplayName("every close code the gateway sends has a row in docs/protocol.md's close code table")
  void everyCloseCodeIsDocumented() throws IOException, IllegalAccessException {
    String doc = Files.readString(DOC);
    for (java.lang.reflect.Field field : CloseCodes.class.getFields()) {
      if (field.getType() == short.class) {
        String row = "| " + field.getShort(null) + " |";
        assertTrue(doc.contains(row), "docs/protocol.md lacks the close code row " + row + " (" + field.getName() + ")");
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
    JsonFrameParser parser = new JsonFrameParser(new Ids(64), 65_536, 16);
    assertEquals(new ClientFrame.Hello("phone-1", 41L), parser.parse(golden("client/hello.json")));
    assertEquals(new ClientFrame.Send("c-17", "bob", "你好, Bob 🎉"), parser.parse(golden("client/send.json")));
    assertEquals(new ClientFrame.Ack(42), parser.parse(golden("client/ack.json")));
    assertInstanceOf(ClientFrame.Ping.class, parser.parse(golden("client/ping.json")));
    assertEquals(new ClientFrame.Token("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IiLCJleHAiOjE3NjM4OTIwMDB9.c2lnbmF0dXJl"),
        parser.parse(golden("client/token.json")));
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
        new String[] {"server/error.json", ServerFrames.error("c-18", ErrorCode.INBOX_FULL, ErrorCode.INBOX_FULL.meaning())});
    for (String[] pair : pairs) {
      assertEquals(new JsonObject(golden(pair[0])), new JsonObject(pair[1]), pair[0]);
      assertEquals(golden(pair[0]), pair[1], pair[0] + " (field order)");
    }
  }
}
