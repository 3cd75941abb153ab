package dev.switchboard.gateway;

import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.SendBatch;
import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.metrics.SwitchboardMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Collects the sends a gateway instance reads in one event-loop turn and hands them to the router
 * as one request. The flush is a task queued on the instance's own context, so it runs after the
 * loop has read every socket that was ready: under load many sends share one bus hop (and one
 * thread wake-up) each way; a lone send goes out at once, in the same turn. The stored sends of
 * an answer are counted in the metrics together.
 */
final class SendBatcher {

  /** A bound on one request's size; a full batch is sent without waiting for the turn to end. */
  static final int MAX_SENDS = 256;

  /** A send of the current turn and the promise of its outcome. */
  private record Pending(SendCommand send, Promise<SendOutcome> outcome) {
  }

  private final Context context;
  private final Function<SendBatch, Future<SendBatchResult>> router;
  private final SwitchboardMetrics metrics;
  /** The sends of the current turn; null when none is waiting for a flush. */
  private List<Pending> pending;

  SendBatcher(Context context, Function<SendBatch, Future<SendBatchResult>> router, SwitchboardMetrics metrics) {
    this.context = context;
    this.router = router;
    this.metrics = metrics;
  }

  /** Completes with the send's outcome, or fails with the reason it was refused. */
  Future<SendOutcome> submit(SendCommand command) {
    if (pending == null) {
      pending = new ArrayList<>();
      context.runOnContext(v -> flush());
    }
    Promise<SendOutcome> outcome = Promise.promise();
    pending.add(new Pending(command, outcome));
    if (pending.size() >= MAX_SENDS) {
      flush();
    }
    return outcome.future();
  }

  private void flush() {
    if (pending == null) {
      return;
    }
    List<Pending> batch = pending;
    pending = null;
    router.apply(new SendBatch(batch.stream().map(Pending::send).toList())).onComplete(reply -> {
      int stored = 0;
      int duplicates = 0;
      for (int i = 0; i < batch.size(); i++) {
        Promise<SendOutcome> outcome = batch.get(i).outcome();
        SendBatchResult.Entry entry = reply.succeeded() ? reply.result().entries().get(i) : null;
        if (entry == null) {
          outcome.fail(BusFailures.asProtocolException(reply.cause()));
        } else if (entry.failure() != null) {
          outcome.fail(entry.failure());
        } else {
          SendOutcome sent = entry.outcome();
          if (sent.results().get(0).isStored()) {
            if (sent.duplicate()) {
              duplicates++;
            } else {
              stored++;
            }
          }
          outcome.complete(sent);
        }
      }
      metrics.accepted(stored, duplicates);
    });
  }
}
