package dev.switchboard.routing;

import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
class InboxBatcherTest {

  /** An inbox that answers only when told to: each request waits in {@link #requests}. */
  private static final class HeldInbox {
    record Request(List<SendCommand> commands, Promise<List<SendBatchResult.Entry>> answer) {
    }

    final List<Request> requests = new ArrayList<>();

    Future<List<SendBatchResult.Entry>> store(List<SendCommand> commands) {
      Promise<List<SendBatchResult.Entry>> answer = Promise.promise();
      requests.add(new Request(List.copyOf(commands), answer));
      return answer.future();
    }

    /** Answers request {@code i}: each command stored for its first recipient, seq = its body. */
    void answer(int i) {
      List<SendBatchResult.Entry> entries = new ArrayList<>();
      for (SendCommand c : requests.get(i).commands()) {
        entries.add(SendBatchResult.Entry.of(new SendOutcome(false,
            List.of(RecipientResult.stored(c.to().get(0), "m" + c.body(), Long.parseLong(c.body()), 0)))));
      }
      requests.get(i).answer().complete(entries);
    }

    List<Integer> sizes() {
      return requests.stream().map(r -> r.commands().size()).toList();
    }
  }

  private static SendCommand send(int n, int recipients) {
    List<String> to = IntStream.range(0, recipients).mapToObj(i -> "u" + i).toList();
    return new SendCommand("alice", to, Integer.toString(n), null);
  }

  /** A batcher whose two requests (sends 1 and 2, one copy each) are out with {@code inbox}, unanswered. */
  private static InboxBatcher withBothRequestsOut(int maxCopies, HeldInbox inbox) {
    return withBothRequestsOut(maxCopies, 1_000_000, inbox);
  }

  private static InboxBatcher withBothRequestsOut(int maxCopies, int maxWaitingCopies, HeldInbox inbox) {
    InboxBatcher batcher = new InboxBatcher(1, maxCopies, maxWaitingCopies, 60_000, System::nanoTime, inbox::store);
    batcher.submit(List.of(send(1, 1)));
    batcher.submit(List.of(send(2, 1)));
    return batcher;
  }

  private static long seqOf(Future<List<SendBatchResult.Entry>> entries, int i) {
    return entries.result().get(i).outcome().results().get(0).seq();
  }

  @Test
  @DisplayName("with the inbox free, a send goes out at once; what arrives while two are out waits and goes as one request")
  void coalescesWhileTheInboxIsBusy(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      InboxBatcher batcher = new InboxBatcher(1, 1000, 1_000_000, 60_000, System::nanoTime, inbox::store);
      Future<List<SendBatchResult.Entry>> first = batcher.submit(List.of(send(1, 1)));
      Future<List<SendBatchResult.Entry>> second = batcher.submit(List.of(send(2, 1), send(3, 1)));
      Future<List<SendBatchResult.Entry>> third = batcher.submit(List.of(send(4, 1)));
      Future<List<SendBatchResult.Entry>> fourth = batcher.submit(List.of(send(5, 1), send(6, 1)));
      test.verify(() -> assertEquals(List.of(1, 2), inbox.sizes()));
      inbox.answer(0);
      test.verify(() -> {
        // The first answer frees a slot: the two that waited leave together.
        assertEquals(List.of(1, 2, 3), inbox.sizes());
        assertEquals(1, seqOf(first, 0));
        assertTrue(!third.isComplete() && !fourth.isComplete());
      });
      inbox.answer(1);
      inbox.answer(2);
      test.verify(() -> {
        assertEquals(List.of(2L, 3L), List.of(seqOf(second, 0), seqOf(second, 1)));
        assertEquals(1, third.result().size());
        assertEquals(4, seqOf(third, 0));
        assertEquals(List.of(5L, 6L), List.of(seqOf(fourth, 0), seqOf(fourth, 1)));
        assertEquals(List.of(1, 2, 3), inbox.sizes());
      });
      test.completeNow();
    });
  }

  @Test
  @DisplayName("with an inbox that runs three commits at once, four requests are out; the next waits for any of them")
  void feedsEveryCommitTheInboxRuns(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      InboxBatcher batcher = new InboxBatcher(3, 1000, 1_000_000, 60_000, System::nanoTime, inbox::store);
      List<Future<List<SendBatchResult.Entry>>> sent = new ArrayList<>();
      for (int n = 1; n <= 6; n++) {
        sent.add(batcher.submit(List.of(send(n, 1))));
      }
      test.verify(() -> assertEquals(List.of(1, 1, 1, 1), inbox.sizes()));
      // A later request answered first frees a slot all the same.
      inbox.answer(2);
      test.verify(() -> {
        assertEquals(3, seqOf(sent.get(2), 0));
        assertTrue(!sent.get(0).isComplete() && !sent.get(1).isComplete());
        assertEquals(List.of(1, 1, 1, 1, 2), inbox.sizes());
      });
      test.completeNow();
    });
  }

  @Test
  @DisplayName("a request holds at most the inbox's batch of copies, unless one command alone has more")
  void requestsAreCappedByCopies(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      InboxBatcher batcher = withBothRequestsOut(10, inbox);
      List<Future<List<SendBatchResult.Entry>>> waiting = new ArrayList<>();
      for (int n = 3; n < 9; n++) {
        waiting.add(batcher.submit(List.of(send(n, 4)))); // 4 copies each: two fit in 10
      }
      Future<List<SendBatchResult.Entry>> big = batcher.submit(List.of(send(9, 25)));
      inbox.answer(0);
      inbox.answer(1);
      test.verify(() -> assertEquals(List.of(1, 1, 2, 2), inbox.sizes()));
      inbox.answer(2);
      inbox.answer(3);
      test.verify(() -> assertEquals(List.of(1, 1, 2, 2, 2, 1), inbox.sizes()));
      inbox.answer(4);
      inbox.answer(5);
      test.verify(() -> {
        for (int i = 0; i < waiting.size(); i++) {
          assertEquals(i + 3, seqOf(waiting.get(i), 0));
        }
        assertEquals(9, seqOf(big, 0));
      });
      test.completeNow();
    });
  }

  @Test
  @DisplayName("beyond limits.maxQueuedCopies waiting, new sends are refused with overloaded; taken again once the inbox catches up")
  void refusesBeyondTheWaitingBound(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      InboxBatcher batcher = withBothRequestsOut(1000, 10, inbox);
      // what follows waits, up to 10 copies
      Future<List<SendBatchResult.Entry>> six = batcher.submit(List.of(send(3, 6)));
      Future<List<SendBatchResult.Entry>> four = batcher.submit(List.of(send(4, 4)));
      Future<List<SendBatchResult.Entry>> refused = batcher.submit(List.of(send(5, 1)));
      test.verify(() -> {
        assertTrue(refused.failed());
        assertEquals(ErrorCode.OVERLOADED, ((ProtocolException) refused.cause()).code());
        assertTrue(!six.isComplete() && !four.isComplete());
        assertEquals(List.of(1, 1), inbox.sizes(), "the refused send never reached the inbox");
      });
      inbox.answer(0); // the 10 waiting copies leave as one request
      Future<List<SendBatchResult.Entry>> taken = batcher.submit(List.of(send(6, 1)));
      // alone in the queue, a command larger than the bound is still taken
      Future<List<SendBatchResult.Entry>> big = batcher.submit(List.of(send(7, 25)));
      test.verify(() -> {
        assertEquals(List.of(1, 1, 2), inbox.sizes());
        assertTrue(big.failed(), "25 copies behind 1 waiting is over the bound");
      });
      inbox.answer(1);
      inbox.answer(2);
      inbox.answer(3);
      Future<List<SendBatchResult.Entry>> bigAlone = batcher.submit(List.of(send(8, 25)));
      test.verify(() -> {
        assertEquals(List.of(3L, 4L, 6L), List.of(seqOf(six, 0), seqOf(four, 0), seqOf(taken, 0)));
        assertEquals(List.of(1, 1, 2, 1, 1), inbox.sizes(), "with the inbox free, the big one went out at once");
        assertTrue(!bigAlone.failed());
      });
      test.completeNow();
    });
  }

  @Test
  @DisplayName("once the oldest waiting send has waited longer than limits.maxQueueMillis, new sends are refused "
      + "with overloaded at once, never reaching the inbox; taken again as soon as what waits is younger")
  void refusesOnceTheOldestHasWaitedTooLong(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      long[] nowMillis = {0};
      InboxBatcher batcher = new InboxBatcher(1, 1000, 1_000_000, 100, () -> nowMillis[0] * 1_000_000L, inbox::store);
      batcher.submit(List.of(send(1, 1)));
      batcher.submit(List.of(send(2, 1)));
      Future<List<SendBatchResult.Entry>> old = batcher.submit(List.of(send(3, 1))); // waits from t=0
      nowMillis[0] = 100;
      Future<List<SendBatchResult.Entry>> atTheLimit = batcher.submit(List.of(send(4, 1))); // waits from t=100
      nowMillis[0] = 101;
      Future<List<SendBatchResult.Entry>> refused = batcher.submit(List.of(send(5, 1)));
      test.verify(() -> {
        assertTrue(!atTheLimit.isComplete(), "the oldest had waited exactly the limit: still taken");
        assertTrue(refused.failed());
        assertEquals(ErrorCode.OVERLOADED, ((ProtocolException) refused.cause()).code());
        assertTrue(refused.cause().getMessage().contains("101 ms"), refused.cause().getMessage());
        assertEquals(List.of(1, 1), inbox.sizes(), "the refused send never reached the inbox");
      });
      inbox.answer(0); // sends 3 and 4 leave together: nothing waits
      Future<List<SendBatchResult.Entry>> afterDrain = batcher.submit(List.of(send(6, 1))); // waits from t=101
      nowMillis[0] = 150;
      Future<List<SendBatchResult.Entry>> young = batcher.submit(List.of(send(7, 1)));
      test.verify(() -> {
        assertEquals(List.of(1, 1, 2), inbox.sizes());
        assertTrue(!afterDrain.isComplete() && !young.isComplete(), "the oldest waiting has waited 49 ms");
      });
      inbox.answer(1);
      inbox.answer(2);
      inbox.answer(3);
      test.verify(() -> assertEquals(List.of(3L, 4L, 6L, 7L),
          List.of(seqOf(old, 0), seqOf(atTheLimit, 0), seqOf(afterDrain, 0), seqOf(young, 0))));
      test.completeNow();
    });
  }

  @Test
  @DisplayName("a send is refused with overloaded at once when the requests ahead of it, waiting and with the inbox, "
      + "would take the store longer than limits.maxQueueMillis at the rate it answered the last ones")
  void refusesWhenWhatWaitsWouldTakeTooLong(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      long[] nowMillis = {0};
      InboxBatcher batcher = new InboxBatcher(1, 10, 1_000_000, 160, () -> nowMillis[0] * 1_000_000L, inbox::store);
      paceAt(40, batcher, inbox, nowMillis); // two requests with the inbox from here on
      Future<List<SendBatchResult.Entry>> first = batcher.submit(List.of(send(5, 10)));
      Future<List<SendBatchResult.Entry>> second = batcher.submit(List.of(send(6, 10)));
      Future<List<SendBatchResult.Entry>> third = batcher.submit(List.of(send(7, 10))); // 2 + 2 requests ahead: 160 ms
      Future<List<SendBatchResult.Entry>> refused = batcher.submit(List.of(send(8, 1))); // 3 + 2 ahead: 200 ms
      test.verify(() -> {
        assertTrue(!first.isComplete() && !second.isComplete() && !third.isComplete());
        assertTrue(refused.failed());
        assertEquals(ErrorCode.OVERLOADED, ((ProtocolException) refused.cause()).code());
        assertTrue(refused.cause().getMessage().contains("30 copies wait"), refused.cause().getMessage());
        assertEquals(List.of(1, 1, 1, 1), inbox.sizes(), "the refused send never reached the inbox");
      });
      test.completeNow();
    });
  }

  @Test
  @DisplayName("offered a third more than a store that runs four commits at once takes, and in gateway batches that "
      + "pack a request only three quarters full, what is accepted is answered within limits.maxQueueMillis and one "
      + "interval between the store's answers; the store is still always fed full requests")
  void acceptedSendsAreAnsweredWithinTheLimitAtSaturation(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      long[] nowMillis = {0};
      long limitMillis = 500;
      long answerEveryMillis = 40;
      InboxBatcher batcher = new InboxBatcher(4, 1000, 1_000_000, limitMillis, () -> nowMillis[0] * 1_000_000L,
          inbox::store);
      List<Long> answeredAfter = new ArrayList<>();
      int[] refused = {0};
      int answered = 0;
      int n = 0;
      for (nowMillis[0] = 0; nowMillis[0] < 10_000; nowMillis[0]++) {
        if (nowMillis[0] % answerEveryMillis == 0 && answered < inbox.requests.size()) {
          inbox.answer(answered++); // in order, one per interval: a store kept busy
        }
        if (nowMillis[0] % 10 == 0) {
          // a gateway turn's sends: 256 copies, so three fill a request of 1000 to 768
          List<SendCommand> turn = new ArrayList<>();
          for (int i = 0; i < 256; i++) {
            turn.add(send(++n, 1));
          }
          long at = nowMillis[0];
          batcher.submit(turn).onComplete(done -> {
            if (done.succeeded()) {
              answeredAfter.add(nowMillis[0] - at);
            } else {
              refused[0]++;
            }
          });
        }
      }
      long slowest = answeredAfter.stream().mapToLong(Long::longValue).max().orElseThrow();
      List<Integer> lastSizes = inbox.sizes().subList(inbox.sizes().size() - 50, inbox.sizes().size());
      test.verify(() -> {
        assertTrue(refused[0] > 0, "the excess is refused");
        assertTrue(slowest <= limitMillis + answerEveryMillis, "slowest accepted send answered after " + slowest + " ms");
        assertTrue(lastSizes.stream().allMatch(size -> size == 768), "full requests: " + lastSizes);
      });
      test.completeNow();
    });
  }

  @Test
  @DisplayName("however slow the store's commits, a full request's worth may wait: the store is never kept from a full commit")
  void aFullRequestMayAlwaysWait(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      long[] nowMillis = {0};
      InboxBatcher batcher = new InboxBatcher(1, 10, 1_000_000, 100, () -> nowMillis[0] * 1_000_000L, inbox::store);
      paceAt(500, batcher, inbox, nowMillis); // five times the limit
      List<Future<List<SendBatchResult.Entry>>> taken = new ArrayList<>();
      for (int n = 5; n < 15; n++) {
        taken.add(batcher.submit(List.of(send(n, 1))));
      }
      Future<List<SendBatchResult.Entry>> refused = batcher.submit(List.of(send(15, 1)));
      test.verify(() -> {
        assertTrue(taken.stream().noneMatch(Future::isComplete), "ten copies, one full request, wait");
        assertTrue(refused.failed(), "the eleventh would wait a whole slow commit more");
      });
      inbox.answer(2);
      test.verify(() -> assertEquals(List.of(1, 1, 1, 1, 10), inbox.sizes(), "the next commit is a full one"));
      test.completeNow();
    });
  }

  @Test
  @DisplayName("a failed request fails each send that rode in it; the next request still goes")
  void failureReachesEverySendOfTheRequest(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      HeldInbox inbox = new HeldInbox();
      InboxBatcher batcher = withBothRequestsOut(1000, inbox);
      Future<List<SendBatchResult.Entry>> a = batcher.submit(List.of(send(3, 1)));
      Future<List<SendBatchResult.Entry>> b = batcher.submit(List.of(send(4, 1)));
      Future<List<SendBatchResult.Entry>> later = batcher.submit(List.of(send(5, 1)));
      inbox.answer(0);
      test.verify(() -> assertEquals(List.of(1, 1, 3), inbox.sizes()));
      inbox.requests.get(2).answer().fail(new IllegalStateException("disk full"));
      test.verify(() -> {
        assertEquals("disk full", a.cause().getMessage());
        assertEquals("disk full", b.cause().getMessage());
        assertEquals("disk full", later.cause().getMessage());
      });
      Future<List<SendBatchResult.Entry>> after = batcher.submit(List.of(send(6, 1)));
      test.verify(() -> assertEquals(List.of(1, 1, 3, 1), inbox.sizes()));
      inbox.answer(3);
      test.verify(() -> assertEquals(6, seqOf(after, 0)));
      test.completeNow();
    });
  }

  /**
   * Sends 1 to 4, one copy each, with the store answering two of them {@code millisPerRequest}
   * apart while busy all along, so the batcher has measured that pace; sends 3 and 4 still wait.
   */
  private static void paceAt(long millisPerRequest, InboxBatcher batcher, HeldInbox inbox, long[] nowMillis) {
    batcher.submit(List.of(send(1, 1)));
    batcher.submit(List.of(send(2, 1)));
    nowMillis[0] = 10;
    inbox.answer(0);
    batcher.submit(List.of(send(3, 1)));
    nowMillis[0] = 10 + millisPerRequest;
    inbox.answer(1);
    batcher.submit(List.of(send(4, 1)));
  }
}
