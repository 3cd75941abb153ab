package dev.switchboard.protocol;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ServerFramesTest {

  private static String viaJsonObject(String msgId, long seq, String from, String to, String body, long ts) {
    return new JsonObject().put("type", "message").put("msgId", msgId).put("seq", seq).put("from", from)
        .put("to", to).put("body", body).put("ts", ts).encode();
  }

  @Test
  @DisplayName("the hand-written message frame has exactly the bytes JsonObject.encode() gives")
  void messageFrameMatchesJsonObject() {
    List<String> bodies = List.of("", "hello", "quote \" backslash \\ slash /", "tab\tnewline\nreturn\r",
        "\u0000\u0001\u001f\u007f", "<img src=x onerror=alert(1)>&amp;", "é ü 漢字 \uD83D\uDE00",
        "line sep \u2028 para sep \u2029", "{\"type\":\"message\"}");
    for (String body : bodies) {
      assertEquals(viaJsonObject("m-1", 7, "alice", "bob", body, 1_700_000_000_000L),
          ServerFrames.message("m-1", 7, "alice", "bob", body, 1_700_000_000_000L), body);
    }
    Random random = new Random(42);
    for (int i = 0; i < 2_000; i++) {
      StringBuilder body = new StringBuilder();
      int length = random.nextInt(40);
      for (int c = 0; c < length; c++) {
        body.append((char) (random.nextBoolean() ? random.nextInt(128) : random.nextInt(0xD800)));
      }
      String user = "u" + random.nextInt(1000);
      assertEquals(viaJsonObject("id" + i, i, user, "x\"y", body.toString(), i * 31L),
          ServerFrames.message("id" + i, i, user, "x\"y", body.toString(), i * 31L));
    }
  }

  @Test
  @DisplayName("the hand-written accepted frame has exactly the bytes JsonObject.encode() gives")
  void acceptedFrameMatchesJsonObject() {
    Random random = new Random(7);
    for (int i = 0; i < 2_000; i++) {
      StringBuilder id = new StringBuilder();
      int length = 1 + random.nextInt(30);
      for (int c = 0; c < length; c++) {
        id.append((char) (random.nextBoolean() ? random.nextInt(128) : random.nextInt(0xD800)));
      }
      boolean online = random.nextBoolean();
      boolean duplicate = random.nextBoolean();
      JsonObject expected = new JsonObject().put("type", "accepted").put("id", id.toString()).put("msgId", "m" + i)
          .put("ts", i * 17L).put("online", online);
      if (duplicate) {
        expected.put("duplicate", true);
      }
      assertEquals(expected.encode(), ServerFrames.accepted(id.toString(), "m" + i, i * 17L, online, duplicate));
    }
  }
}
