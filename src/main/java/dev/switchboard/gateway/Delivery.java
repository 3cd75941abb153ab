package dev.switchboard.gateway;

import dev.switchboard.bus.StoredMessage;
import dev.switchboard.protocol.ServerFrames;
import dev.switchboard.protocol.TextFrame;

/**
 * A stored message on its way to sessions. Each wire form is encoded at most once, however many
 * sessions of the recipient receive it.
 */
final class Delivery {

  final StoredMessage message;
  private String jsonFrame;
  private String textFrame;

  Delivery(StoredMessage message) {
    this.message = message;
  }

  long seq() {
    return message.seq();
  }

  String jsonFrame() {
    if (jsonFrame == null) {
      StoredMessage m = message;
      jsonFrame = ServerFrames.message(m.msgId(), m.seq(), m.from(), m.to(), m.body(), m.ts());
    }
    return jsonFrame;
  }

  String textFrame(boolean prefixSender, boolean escapeHtml) {
    if (textFrame == null) {
      textFrame = TextFrame.delivery(message.from(), message.body(), prefixSender, escapeHtml);
    }
    return textFrame;
  }
}
