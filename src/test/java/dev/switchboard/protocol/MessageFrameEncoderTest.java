package dev.switchboard.protocol;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MessageFrameEncoderTest {

  private static String viaJsonObject(String msgId, long seq, String from, String to, String body, long ts) {
    return new JsonObject().put("type", "message").put("msgId", msgId).put("seq", seq).put("from", from)
        .put("to", to).put("body", body).put("ts", ts).encode();
  }

  private static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Test
  @DisplayName("the UTF-8 message frame has exactly the bytes JsonObject.encode() gives")
  void bytesMatchJsonObject() {
    MessageFrameEncoder encoder = new MessageFrameEncoder();
    List<String> texts = List.of("", "hello", "quote \" backslash \\ slash /", "tab\tnewline\nreturn\r",
        "\u0000\u0001\u001f\u007f", "<img src=x onerror=alert(1)>&amp;", "é ü 漢字 \uD83D\uDE00",
        "line sep \u2028 para sep \u2029", "{\"type\":\"message\"}");
    long[] numbers = {0, 1, 9, 10, 99, 100, 1_700_000_000_000L, Long.MAX_VALUE, -1, Long.MIN_VALUE};
    int n = 0;
    for (String text : texts) {
      for (long number : numbers) {
        // the text in every string field: ids are checked, but the frame must not depend on it
        assertEquals(viaJsonObject(text, number, text, text, text, number),
            utf8(encoder.message(text, number, text, text, text, number)), text + " " + number);
        assertEquals(viaJsonObject("m-" + n, number, "alice", "bob", text, n),
            utf8(encoder.message("m-" + n, number, "alice", "bob", text, n)));
        n++;
      }
    }
    assertEquals(viaJsonObject(null, 1, null, null, null, 2), utf8(encoder.message(null, 1, null, null, null, 2)));
  }

  @Test
  @DisplayName("a push's frame carries \"push\":true after from, byte for byte as ServerFrames writes it; a user's message none")
  void pushMark() {
    MessageFrameEncoder encoder = new MessageFrameEncoder();
    String pushed = utf8(encoder.message("m-1", 7, "shop", true, "bob", "shipped \u00e9", 5L));
    assertEquals(ServerFrames.message("m-1", 7, "shop", true, "bob", "shipped \u00e9", 5L), pushed);
    assertEquals(new JsonObject().put("type", "message").put("msgId", "m-1").put("seq", 7).put("from", "shop")
        .put("push", true).put("to", "bob").put("body", "shipped \u00e9").put("ts", 5L).encode(), pushed);
    assertEquals(viaJsonObject("m-2", 8, "shop", "bob", "hi", 6L), utf8(encoder.message("m-2", 8, "shop", false, "bob", "hi", 6L)));
  }

  @Test
  @DisplayName("random text, and a body kept from the last frame is only reused for the same string")
  void randomTextAndBodyReuse() {
    MessageFrameEncoder encoder = new MessageFrameEncoder();
    Random random = new Random(42);
    String shared = "one push, many recipients \u00e9";
    for (int i = 0; i < 3_000; i++) {
      StringBuilder body = new StringBuilder();
      int length = random.nextInt(i % 100 == 0 ? 100_000 : 40);
      for (int c = 0; c < length; c++) {
        body.append((char) (random.nextBoolean() ? random.nextInt(128) : random.nextInt(0xD800)));
      }
      String user = "u" + random.nextInt(1000) + (random.nextInt(10) == 0 ? "\u00fc\"" : "");
      // alternate a shared body (the cached path) with fresh ones, some equal in content but not
      // the same string, some large (the scratch array grows and is dropped again)
      String text = i % 3 == 0 ? shared : i % 3 == 1 ? new String(shared.toCharArray()) + i : body.toString();
      assertEquals(viaJsonObject("id" + i, i, user, "x\"y", text, i * 31L),
          utf8(encoder.message("id" + i, i, user, "x\"y", text, i * 31L)));
    }
  }
}
