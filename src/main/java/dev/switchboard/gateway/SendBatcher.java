package dev.switchboard.gateway;

import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.SendBatch;
import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Collects the sends a gateway instance reads in one event-loop turn and hands them to the router
 * as one request. The flush is a task queued on the instance's own context, so it runs after the
 * loop has read every socket that was ready: under load many sends share one bus hop (and one
 * thread wake-up) each way; a lone send goes out at once, in the same turn.
 */
final class SendBatcher {

  /** A bound on one request's size; a full batch is sent without waiting for the turn to end. */
  static final int MAX_SENDS = 256;

  private final Context context;
  private final Function<SendBatch, Future<SendBatchResult>> router;
  private List<JsonObject> sends;
  private List<Promise<SendOutcome>> waiting;

  SendBatcher(Context context, Function<SendBatch, Future<SendBatchResult>> router) {
    this.context = context;
    this.router = router;
  }

  /** Completes with the send's outcome, or fails with the reason it was refused. */
  Future<SendOutcome> submit(SendCommand command) {
    if (sends == null) {
      sends = new ArrayList<>();
      waiting = new ArrayList<>();
      context.runOnContext(v -> flush());
    }
    Promise<SendOutcome> outcome = Promise.promise();
    sends.add(command.toJson());
    waiting.add(outcome);
    if (sends.size() >= MAX_SENDS) {
      flush();
    }
    return outcome.future();
  }

  private void flush() {
    if (sends == null) {
      return;
    }
    List<JsonObject> batch = sends;
    List<Promise<SendOutcome>> promises = waiting;
    sends = null;
    waiting = null;
    router.apply(new SendBatch(batch)).onComplete(reply -> {
      if (reply.failed()) {
        promises.forEach(p -> p.fail(BusFailures.asProtocolException(reply.cause())));
        return;
      }
      List<SendBatchResult.Entry> entries = reply.result().entries();
      for (int i = 0; i < promises.size(); i++) {
        SendBatchResult.Entry entry = entries.get(i);
        if (entry.failure() != null) {
          promises.get(i).fail(entry.failure());
        } else {
          promises.get(i).complete(entry.outcome());
        }
      }
    });
  }
}
