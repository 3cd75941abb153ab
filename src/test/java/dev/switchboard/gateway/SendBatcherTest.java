package dev.switchboard.gateway;

import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.SendBatch;
import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

@ExtendWith(VertxExtension.class)
class SendBatcherTest {

  /** Answers each send with a stored copy whose seq is its position, refusing bodies named "bad". */
  private static final Function<SendBatch, Future<SendBatchResult>> ROUTER = batch -> {
    List<SendBatchResult.Entry> entries = new ArrayList<>();
    for (int i = 0; i < batch.sends().size(); i++) {
      String body = batch.sends().get(i).body();
      entries.add(body.equals("bad")
          ? SendBatchResult.Entry.failed(new ProtocolException(ErrorCode.INVALID_FIELD, "bad body"))
          : SendBatchResult.Entry.of(new SendOutcome(false, List.of(RecipientResult.stored("bob", "m" + i, i + 1, 0)))));
    }
    return Future.succeededFuture(new SendBatchResult(entries));
  };

  /** A batcher whose requests go to {@link #ROUTER}, noting each request's size. */
  private static SendBatcher recordingBatcher(Context context, List<Integer> requestSizes) {
    return new SendBatcher(context, batch -> {
      requestSizes.add(batch.sends().size());
      return ROUTER.apply(batch);
    }, SwitchboardMetrics.of(context.owner()));
  }

  private static SendCommand send(String body) {
    return new SendCommand("alice", List.of("bob"), body, null);
  }

  @Test
  @DisplayName("sends of one event-loop turn go to the router as one request, each gets its own answer")
  void oneRequestPerTurn(Vertx vertx, VertxTestContext test) {
    List<Integer> requestSizes = new ArrayList<>();
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      SendBatcher batcher = recordingBatcher(context, requestSizes);
      Future<SendOutcome> first = batcher.submit(send("one"));
      Future<SendOutcome> refused = batcher.submit(send("bad"));
      Future<SendOutcome> third = batcher.submit(send("three"));
      Future.join(first, refused, third).onComplete(done -> test.verify(() -> {
        assertEquals(List.of(3), requestSizes);
        assertEquals(1, first.result().results().get(0).seq());
        assertEquals(ErrorCode.INVALID_FIELD, ((ProtocolException) refused.cause()).code());
        assertEquals(3, third.result().results().get(0).seq());
        test.completeNow();
      }));
    });
  }

  @Test
  @DisplayName("a full batch leaves at once; the rest of the turn goes in the next request")
  void fullBatchLeavesAtOnce(Vertx vertx, VertxTestContext test) {
    List<Integer> requestSizes = new ArrayList<>();
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      SendBatcher batcher = recordingBatcher(context, requestSizes);
      List<Future<SendOutcome>> all = new ArrayList<>();
      for (int i = 0; i < SendBatcher.MAX_SENDS + 5; i++) {
        all.add(batcher.submit(send("m" + i)));
      }
      Future.all(all).onComplete(test.succeeding(done -> test.verify(() -> {
        assertEquals(List.of(SendBatcher.MAX_SENDS, 5), requestSizes);
        test.completeNow();
      })));
    });
  }

  @Test
  @DisplayName("when the router does not answer, every send of the batch fails with the reason")
  void routerFailureFailsTheBatch(Vertx vertx, VertxTestContext test) {
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      SendBatcher batcher = new SendBatcher(context,
          batch -> Future.failedFuture(new ProtocolException(ErrorCode.UNAVAILABLE, "inbox write failed")),
          SwitchboardMetrics.of(vertx));
      Future<SendOutcome> a = batcher.submit(send("a"));
      Future<SendOutcome> b = batcher.submit(send("b"));
      Future.join(a, b).onComplete(done -> test.verify(() -> {
        assertEquals(ErrorCode.UNAVAILABLE, ((ProtocolException) a.cause()).code());
        assertEquals(ErrorCode.UNAVAILABLE, ((ProtocolException) b.cause()).code());
        test.completeNow();
      }));
    });
  }
}
