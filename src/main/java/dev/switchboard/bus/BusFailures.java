package dev.switchboard.bus;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/** Maps failures to and from event-bus replies, so every hop speaks {@link ErrorCode}. */
public final class BusFailures {

  private BusFailures() {
  }

  /** Fails the request with the code of a {@link ProtocolException}, else {@link ErrorCode#INTERNAL}. */
  public static void fail(Message<?> request, Throwable cause) {
    ErrorCode code = codeOf(cause);
    request.fail(code.failureCode(), cause.getMessage() == null ? code.meaning() : cause.getMessage());
  }

  /** The code a failed request, reply or local step stands for. */
  public static ErrorCode codeOf(Throwable cause) {
    if (cause instanceof ProtocolException p) {
      return p.code();
    }
    if (cause instanceof ReplyException reply) {
      return reply.failureType() == ReplyFailure.RECIPIENT_FAILURE
          ? ErrorCode.fromFailureCode(reply.failureCode())
          : ErrorCode.UNAVAILABLE;
    }
    return ErrorCode.INTERNAL;
  }

  /** The failure as a {@link ProtocolException}, keeping the original message. */
  public static ProtocolException asProtocolException(Throwable cause) {
    if (cause instanceof ProtocolException p) {
      return p;
    }
    ErrorCode code = codeOf(cause);
    String message = code == ErrorCode.INTERNAL || cause.getMessage() == null ? code.meaning() : cause.getMessage();
    return new ProtocolException(code, message);
  }
}
