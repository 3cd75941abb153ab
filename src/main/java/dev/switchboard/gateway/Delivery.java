package dev.switchboard.gateway;

import dev.switchboard.bus.DeliveryReceipts;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.protocol.MessageFrameEncoder;
import dev.switchboard.protocol.ServerFrames;
import dev.switchboard.protocol.TextFrame;

import java.nio.charset.StandardCharsets;

/**
 * A stored message on its way to sessions. Each wire form is encoded at most once, however many
 * sessions of the recipient receive it.
 */
final class Delivery {

  final StoredMessage message;
  /** Pushed as it was committed, rather than read from the store as backlog. */
  final boolean live;
  private byte[] jsonFrame;
  private String textFrame;

  Delivery(StoredMessage message, boolean live) {
    this.message = message;
    this.live = live;
  }

  long seq() {
    return message.seq();
  }

  /**
   * A read or delivered receipt: a {@code read} or {@code delivered} frame for JSON clients,
   * nothing for text clients (which have no such frames).
   */
  boolean isReceipt() {
    return Senders.isReceipt(message.from()) || Senders.isDelivered(message.from());
  }

  /** A user's message whose sender wants a delivered receipt once a device of the recipient acks it. */
  boolean asksReceipt() {
    return DeliveryReceipts.requested(message.msgId()) && Senders.isUser(message.from());
  }

  /** Text (seed) clients have no frame for receipts and room events: their cursor passes them with the next message. */
  boolean jsonOnly() {
    return message.isRoomEvent() || isReceipt();
  }

  /** The v1 frame as UTF-8, ready for the socket. */
  byte[] jsonFrame(MessageFrameEncoder encoder) {
    if (jsonFrame == null) {
      StoredMessage m = message;
      if (Senders.isDelivered(m.from())) {
        jsonFrame = ServerFrames.delivered(m.msgId(), m.seq(), Senders.shown(m.from()), Senders.receiptRoom(m.from()),
                m.body(), m.ts())
            .getBytes(StandardCharsets.UTF_8);
        return jsonFrame;
      }
      if (isReceipt()) {
        jsonFrame = ServerFrames.read(m.msgId(), m.seq(), Senders.shown(m.from()), Senders.receiptRoom(m.from()),
                m.body(), m.ts())
            .getBytes(StandardCharsets.UTF_8);
        return jsonFrame;
      }
      if (m.isRoomEvent()) {
        jsonFrame = ServerFrames.roomEvent(m.msgId(), m.seq(), m.room(), m.roomSeq(), m.event(), m.body(),
            Senders.shown(m.from()), m.ts()).getBytes(StandardCharsets.UTF_8);
        return jsonFrame;
      }
      jsonFrame = encoder.message(m.msgId(), m.seq(), Senders.shown(m.from()), Senders.isPush(m.from()), m.to(),
          m.room(), m.roomSeq(), m.body(), m.ts());
    }
    return jsonFrame;
  }

  String textFrame(boolean prefixSender, boolean escapeHtml) {
    if (textFrame == null) {
      // The seed text format has no room for the push mark: text clients see the name alone.
      textFrame = TextFrame.delivery(Senders.shown(message.from()), message.body(), prefixSender, escapeHtml);
    }
    return textFrame;
  }
}
