package dev.switchboard.routing;

import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.Senders;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.protocol.Utf8;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/** Checks a send or push against the limits, whichever door it came through. */
final class SendValidator {

  static final int MAX_IDEMPOTENCY_KEY_LENGTH = 128;

  private final LimitsConfig limits;
  private final Ids ids;

  SendValidator(LimitsConfig limits) {
    this.limits = limits;
    this.ids = new Ids(limits.maxIdLength());
  }

  /**
   * Parses push JSON ({@code to} as one id or a list) sent as {@code from}: the request's own
   * {@code from} field is the caller's to weigh (an API key may not set it), not this method's.
   */
  SendCommand parse(JsonObject json, Object from) {
    Object rawTo = json.getValue("to");
    Object rawRoom = json.getValue("room");
    List<String> to = new ArrayList<>();
    if (rawRoom != null) {
      if (rawTo != null) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "a message goes to users (to) or to a room (room), not both");
      }
      if (!(rawRoom instanceof String)) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "room must be a room id");
      }
    } else if (rawTo == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, "to is required");
    } else if (rawTo instanceof String s) {
      to.add(s);
    } else if (rawTo instanceof JsonArray array) {
      for (Object o : array) {
        if (!(o instanceof String s)) {
          throw new ProtocolException(ErrorCode.INVALID_FIELD, "to must hold only strings");
        }
        to.add(s);
      }
    } else {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "to must be a user id or a list of user ids");
    }
    Object body = json.getValue("body");
    if (body == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, "body is required");
    }
    if (!(body instanceof String bodyText)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "body must be a string");
    }
    if (!(from instanceof String fromId)) {
      throw new ProtocolException(from == null ? ErrorCode.MISSING_FIELD : ErrorCode.INVALID_FIELD, "from must be a user id");
    }
    Object key = json.getValue("idempotencyKey");
    if (key != null && !(key instanceof String)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "idempotencyKey must be a string");
    }
    return validate(new SendCommand(fromId, to, bodyText, (String) key, false, (String) rawRoom));
  }

  /**
   * Validates every field and drops repeated recipients (each gets one copy). A gateway's commands
   * come here directly, already typed (no JSON built and parsed back per send).
   */
  SendCommand validate(SendCommand command) {
    // A receipt's sender is the gateway's mark on an authenticated reader, never a client's string.
    ids.requireValid("from", Senders.isReceipt(command.from()) || Senders.isDelivered(command.from())
        ? Senders.shown(command.from()) : command.from());
    if (command.body() == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, "body is required");
    }
    if (command.room() != null) {
      ids.requireValid("room", command.room());
      if (Senders.isDelivered(command.from()) && command.to().size() == 1) {
        // The gateway's delivered receipt of a room message: to the message's sender, if still a member.
        ids.requireValid("to", command.to().get(0));
      } else if (!command.to().isEmpty()) {
        throw new ProtocolException(ErrorCode.INVALID_FIELD, "a message goes to users (to) or to a room (room), not both");
      }
      checkBodyAndKey(command);
      return command.receipt() && !Senders.isUser(command.from())
          ? new SendCommand(command.from(), command.to(), command.body(), command.idempotencyKey(), false, command.room())
          : command;
    }
    if (command.to().isEmpty()) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "to must name at least one user");
    }
    // One recipient (every client send) has nothing to drop: no set to build.
    List<String> recipients = command.to().size() == 1
        ? List.copyOf(command.to())
        : List.copyOf(new LinkedHashSet<>(command.to()));
    if (recipients.size() > limits.maxRecipients()) {
      throw new ProtocolException(ErrorCode.TOO_LARGE, "more than " + limits.maxRecipients() + " recipients");
    }
    for (String to : recipients) {
      ids.requireValid("to", to);
    }
    checkBodyAndKey(command);
    // Only a user's own message can ask for a delivered receipt: a push has no user to receive it.
    return new SendCommand(command.from(), recipients, command.body(), command.idempotencyKey(),
        command.receipt() && Senders.isUser(command.from()));
  }

  private void checkBodyAndKey(SendCommand command) {
    if (Utf8.length(command.body()) > limits.maxBodyBytes()) {
      throw new ProtocolException(ErrorCode.TOO_LARGE, "body is larger than " + limits.maxBodyBytes() + " bytes");
    }
    String key = command.idempotencyKey();
    if (key != null && (key.isEmpty() || key.length() > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "idempotencyKey must be 1.." + MAX_IDEMPOTENCY_KEY_LENGTH + " characters");
    }
  }
}
