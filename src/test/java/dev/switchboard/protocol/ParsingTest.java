package dev.switchboard.protocol;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParsingTest {

  final JsonFrameParser parser = new JsonFrameParser(new Ids(8), 10, 4, 40);

  @ParameterizedTest
  @CsvSource(delimiter = ';', value = {
      "{oops; bad_json",
      "\"text\"; bad_json",
      "{}; missing_field",
      "{\"type\":7}; invalid_field",
      "{\"type\":\"fly\"}; unknown_type",
      "{\"type\":\"send\",\"to\":\"bob\",\"body\":\"x\"}; missing_field",
      "{\"type\":\"send\",\"id\":7,\"to\":\"bob\",\"body\":\"x\"}; invalid_field",
      "{\"type\":\"send\",\"id\":\"a\",\"body\":\"x\"}; missing_field",
      "{\"type\":\"send\",\"id\":\"a\",\"to\":\"bob smith\",\"body\":\"x\"}; invalid_user",
      "{\"type\":\"send\",\"id\":\"a\",\"to\":\"bob\",\"body\":\"01234567890\"}; too_large",
      "{\"type\":\"ack\"}; missing_field",
      "{\"type\":\"ack\",\"seq\":1.5}; invalid_field",
      "{\"type\":\"hello\",\"device\":\"~text\"}; invalid_user",
      "{\"type\":\"hello\",\"device\":\"d\",\"since\":-3}; invalid_field",
      "{\"type\":\"ping\",\"x\":[[[[1]]]]}; bad_json",
      "{\"type\":\"signal\",\"kind\":\"typing\"}; missing_field",
      "{\"type\":\"signal\",\"to\":\"b|b\",\"kind\":\"typing\"}; invalid_user",
      "{\"type\":\"signal\",\"to\":\"bob\"}; missing_field",
      "{\"type\":\"signal\",\"to\":\"bob\",\"kind\":\"\"}; invalid_field",
      "{\"type\":\"signal\",\"to\":\"bob\",\"kind\":\"is typing\"}; invalid_field",
      "{\"type\":\"signal\",\"to\":\"bob\",\"kind\":\"t\",\"data\":[1]}; invalid_field",
      "{\"type\":\"signal\",\"to\":\"bob\",\"kind\":\"t\",\"data\":\"x\"}; invalid_field",
      "{\"type\":\"read\",\"upTo\":\"m-1\"}; missing_field",
      "{\"type\":\"read\",\"peer\":\"bob\"}; missing_field",
      "{\"type\":\"read\",\"peer\":\"bob\",\"upTo\":7}; invalid_field",
      "{\"type\":\"read\",\"peer\":\"bob\",\"upTo\":\"m 1\"}; invalid_field",
      "{\"type\":\"send\",\"id\":\"a\",\"room\":\"team\",\"body\":\"x\",\"receipt\":\"yes\"}; invalid_field",
      "{\"type\":\"read\",\"room\":\"team\",\"peer\":\"bob\",\"upTo\":\"m-1\"}; invalid_field",
      "{\"type\":\"read\",\"room\":\"t|m\",\"upTo\":\"m-1\"}; invalid_field",
      "{\"type\":\"read\",\"room\":\"team\"}; missing_field",
      "{\"type\":\"mute\",\"peer\":\"bob\",\"room\":\"team\",\"muted\":true}; invalid_field",
      "{\"type\":\"mute\",\"room\":\"t|m\",\"muted\":true}; invalid_field",
      "{\"type\":\"mute\",\"id\":\"\",\"muted\":true}; invalid_field",
      "{\"type\":\"mute\",\"id\":7,\"muted\":true}; invalid_field",
      "{\"type\":\"muted\",\"peer\":\"bob\"}; missing_field",
      "{\"type\":\"muted\",\"id\":\"q\",\"peer\":\"bob\",\"room\":\"team\"}; invalid_field",
      "{\"type\":\"muted\",\"id\":\"q\",\"peer\":\"b b\"}; invalid_user"})
  @DisplayName("each malformed frame is refused with its own code")
  void refusals(String frame, String code) {
    ProtocolException e = assertThrows(ProtocolException.class, () -> parser.parse(frame));
    assertEquals(code, e.code().wireName());
  }

  @Test
  @DisplayName("nesting is measured without parsing, ignoring brackets inside strings")
  void depth() {
    assertTrue(JsonDepth.exceeds("[".repeat(100_000), 16));
    assertFalse(JsonDepth.exceeds("{\"a\":\"[[[[[[[[\\\"[[[[\"}", 1));
    assertEquals(new ClientFrame.Ping(), parser.parse("{\"type\":\"ping\",\"x\":[[[1]]]}"));
  }

  @Test
  @DisplayName("a signal's kind and encoded data together may be up to the signal limit in UTF-8 bytes")
  void signalLimitInBytes() {
    // kind "t" (1 byte) + {"s":"你好1234567890123456789012345"} (39 bytes) = 40: at the limit.
    String fits = "{\"type\":\"signal\",\"to\":\"bob\",\"kind\":\"t\",\"data\":{\"s\":\"你好1234567890123456789012345\"}}";
    ClientFrame.Signal signal = (ClientFrame.Signal) parser.parse(fits);
    assertEquals(new ClientFrame.Signal("bob", "t", "{\"s\":\"你好1234567890123456789012345\"}"), signal);
    ProtocolException e = assertThrows(ProtocolException.class, () -> parser.parse(fits.replace("345\"}", "3456\"}")));
    assertEquals(ErrorCode.TOO_LARGE, e.code());
    assertEquals(new ClientFrame.Signal("bob", "typing", null),
        parser.parse("{\"type\":\"signal\",\"to\":\"bob\",\"kind\":\"typing\"}"));
    assertEquals(new ClientFrame.Read("bob", "m-1"), parser.parse("{\"type\":\"read\",\"peer\":\"bob\",\"upTo\":\"m-1\"}"));
    assertEquals(new ClientFrame.Read(null, "m-1", "team"), parser.parse("{\"type\":\"read\",\"room\":\"team\",\"upTo\":\"m-1\"}"));
    assertEquals(new ClientFrame.RoomSend("a", "team", "x", true),
        parser.parse("{\"type\":\"send\",\"id\":\"a\",\"room\":\"team\",\"body\":\"x\",\"receipt\":true}"));
    assertEquals(new ClientFrame.Mute(null, "team", true), parser.parse("{\"type\":\"mute\",\"room\":\"team\",\"muted\":true}"));
    assertEquals(new ClientFrame.MuteQuery("q", null, null), parser.parse("{\"type\":\"muted\",\"id\":\"q\"}"));
    ProtocolException refused = assertThrows(ProtocolException.class,
        () -> parser.parse("{\"type\":\"mute\",\"id\":\"m-1\",\"peer\":\"b b\",\"muted\":true}"));
    assertEquals("m-1", refused.frameId());
  }

  @Test
  @DisplayName("the body limit counts UTF-8 bytes, not characters")
  void bodyLimitInBytes() {
    assertEquals("你好1234", ((ClientFrame.Send) parser.parse("{\"type\":\"send\",\"id\":\"a\",\"to\":\"b\",\"body\":\"你好1234\"}")).body());
    assertThrows(ProtocolException.class, () -> parser.parse("{\"type\":\"send\",\"id\":\"a\",\"to\":\"b\",\"body\":\"你好12345\"}"));
    assertEquals(4, Utf8.length("🎉"));
    assertEquals(6, Utf8.length("aé你"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "123456789", "a b", "a|b", "a\tb", "a\u0000", "a\u200Bb", "a\u00A0b"})
  @DisplayName("ids that are empty, too long, or hold whitespace, bars, control or format characters are invalid")
  void invalidIds(String id) {
    assertFalse(new Ids(8).isValid(id));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bob", "李雷", "u-1.x@y", "🎉🎉", "12345678"})
  void validIds(String id) {
    assertTrue(new Ids(8).isValid(id));
  }

  @Test
  @DisplayName("the text format splits at the first bar and falls back to the last recipient; deliveries and gap lines read as documented")
  void textFrames() {
    assertEquals(new TextFrame.Parsed("bob", "a|b|c"), TextFrame.parse("bob|a|b|c", null));
    assertEquals(new TextFrame.Parsed("bob", "again"), TextFrame.parse("again", "bob"));
    assertEquals(new TextFrame.Parsed("", "x"), TextFrame.parse("|x", "bob"));
    assertEquals(ErrorCode.NO_RECIPIENT, assertThrows(ProtocolException.class, () -> TextFrame.parse("hi", null)).code());
    assertEquals("alice|&lt;b&gt;", TextFrame.delivery("alice", "<b>", true, true));
    assertEquals("<b>", TextFrame.delivery("alice", "<b>", false, false));
    assertEquals("&lt;i&gt;|&lt;b&gt;", TextFrame.delivery("<i>", "<b>", true, true));
    assertEquals("<i>|<b>", TextFrame.delivery("<i>", "<b>", true, false));
    assertEquals("GAP|3|17|15 messages expired before they could be delivered", TextFrame.gap(3, 17, true));
    assertEquals("GAP|4|4|1 message expired before it could be delivered", TextFrame.gap(4, 4, false));
  }

  @Test
  @DisplayName("random input never escapes the parser as anything but a ProtocolException (fixed seed)")
  void fuzz() {
    Random random = new Random(20261123L);
    String[] pieces = {"{", "}", "\"type\"", ":", "\"send\"", "\"hello\"", "\"ack\"", ",", "\"id\"", "\"to\"", "\"body\"",
        "\"seq\"", "1", "-1", "1e999", "null", "[", "]", "\"\\u0000\"", "\"你\"", "true", "\"device\"", "\"since\""};
    for (int i = 0; i < 20_000; i++) {
      StringBuilder frame = new StringBuilder();
      int n = random.nextInt(12);
      for (int j = 0; j < n; j++) {
        frame.append(random.nextInt(10) == 0 ? (char) random.nextInt(0x3000) : pieces[random.nextInt(pieces.length)]);
      }
      try {
        parser.parse(frame.toString());
      } catch (ProtocolException expected) {
        // refused with a code: fine
      }
    }
  }
}
