package dev.switchboard.gateway;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Joins WebSocket frames into whole text messages, with the size limit applied to the whole message
 * and UTF-8 checked only once the message is complete (a code point may span two fragments).
 * A message that breaks a rule is dropped whole, its remaining fragments included, and reported
 * once, so the connection keeps working.
 */
final class MessageAssembler {

  private final int maxMessageBytes;
  private ByteArrayOutputStream buffer;
  private boolean inMessage;
  private ErrorCode dropping;

  MessageAssembler(int maxMessageBytes) {
    this.maxMessageBytes = maxMessageBytes;
  }

  /**
   * Feeds one data frame. Returns the message text when {@code fin} completes a text message, null while
   * it is incomplete; throws {@link ProtocolException} when a completed message is refused.
   */
  String onFrame(boolean binary, boolean continuation, boolean fin, byte[] data) {
    if (!continuation && fin && !binary) {
      // A whole text message in one frame, as nearly every client sends: no buffer to join into.
      inMessage = false;
      buffer = null;
      dropping = null;
      if (data.length > maxMessageBytes) {
        throw new ProtocolException(ErrorCode.TOO_LARGE, "message is larger than " + maxMessageBytes + " bytes");
      }
      return decode(data);
    }
    if (!continuation) {
      inMessage = true;
      buffer = new ByteArrayOutputStream(Math.min(data.length, maxMessageBytes));
      dropping = binary ? ErrorCode.UNSUPPORTED_FRAME : null;
    } else if (!inMessage) {
      return null;
    }
    if (dropping == null) {
      if ((long) buffer.size() + data.length > maxMessageBytes) {
        dropping = ErrorCode.TOO_LARGE;
        buffer = null;
      } else {
        buffer.write(data, 0, data.length);
      }
    }
    if (!fin) {
      return null;
    }
    inMessage = false;
    ErrorCode refused = dropping;
    byte[] bytes = refused == null ? buffer.toByteArray() : null;
    buffer = null;
    dropping = null;
    if (refused == ErrorCode.UNSUPPORTED_FRAME) {
      throw new ProtocolException(refused, "binary frames are not accepted; send text");
    }
    if (refused == ErrorCode.TOO_LARGE) {
      throw new ProtocolException(refused, "message is larger than " + maxMessageBytes + " bytes");
    }
    return decode(bytes);
  }

  private static String decode(byte[] bytes) {
    // The lenient decoder replaces what is not UTF-8 with U+FFFD and allocates nothing else; only a
    // text that then holds U+FFFD (malformed, or a real U+FFFD) is decoded again strictly.
    String text = new String(bytes, StandardCharsets.UTF_8);
    if (text.indexOf('\uFFFD') < 0) {
      return text;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException(ErrorCode.BAD_ENCODING, "text frame is not valid UTF-8");
    }
  }
}
