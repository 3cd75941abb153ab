package dev.switchboard.gateway;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MessageAssemblerTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  @DisplayName("fragments are joined, even when a code point is split between them")
  void joinsFragments() {
    MessageAssembler assembler = new MessageAssembler(100);
    byte[] emoji = utf8("a🎉b");
    assertNull(assembler.onFrame(false, false, false, Arrays.copyOfRange(emoji, 0, 3)));
    assertEquals("a🎉b", assembler.onFrame(false, true, true, Arrays.copyOfRange(emoji, 3, emoji.length)));
  }

  @Test
  @DisplayName("a message over the limit is dropped whole, its later fragments included, and the next one is read")
  void dropsOversized() {
    MessageAssembler assembler = new MessageAssembler(4);
    assertNull(assembler.onFrame(false, false, false, utf8("abc")));
    assertNull(assembler.onFrame(false, true, false, utf8("de")));
    ProtocolException e = assertThrows(ProtocolException.class, () -> assembler.onFrame(false, true, true, utf8("f")));
    assertEquals(ErrorCode.TOO_LARGE, e.code());
    assertEquals("abcd", assembler.onFrame(false, false, true, utf8("abcd")));
  }

  @Test
  @DisplayName("binary messages and invalid UTF-8 are refused")
  void refusesBinaryAndBadUtf8() {
    MessageAssembler assembler = new MessageAssembler(100);
    assertEquals(ErrorCode.UNSUPPORTED_FRAME,
        assertThrows(ProtocolException.class, () -> assembler.onFrame(true, false, true, new byte[] {1})).code());
    assertEquals(ErrorCode.BAD_ENCODING,
        assertThrows(ProtocolException.class, () -> assembler.onFrame(false, false, true, new byte[] {(byte) 0xC3, 0x28})).code());
    assertEquals("ok", assembler.onFrame(false, false, true, utf8("ok")));
  }

  @Test
  @DisplayName("a message in one frame: over the limit refused, malformed UTF-8 of every kind refused, a real U+FFFD kept")
  void singleFrameMessages() {
    MessageAssembler assembler = new MessageAssembler(8);
    assertEquals(ErrorCode.TOO_LARGE,
        assertThrows(ProtocolException.class, () -> assembler.onFrame(false, false, true, utf8("123456789"))).code());
    assertEquals("12345678", assembler.onFrame(false, false, true, utf8("12345678")));
    assertEquals("\uFFFD\uFFFD", assembler.onFrame(false, false, true, utf8("\uFFFD\uFFFD")));
    byte[][] malformed = {
        {(byte) 0xC0, (byte) 0xAF},                           // overlong '/'
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80},              // an encoded surrogate
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
        {'a', (byte) 0xE2, (byte) 0x82},                      // cut short
        {(byte) 0xFF},
    };
    for (byte[] bytes : malformed) {
      assertEquals(ErrorCode.BAD_ENCODING,
          assertThrows(ProtocolException.class, () -> assembler.onFrame(false, false, true, bytes)).code(),
          Arrays.toString(bytes));
    }
    assertEquals("é🎉", assembler.onFrame(false, false, true, utf8("é🎉")));
  }
}
