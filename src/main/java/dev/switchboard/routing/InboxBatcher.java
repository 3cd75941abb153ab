package dev.switchboard.routing;

import dev.switchboard.bus.SendBatchResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Holds the router's sends and pushes while earlier ones are with the inbox, and hands the inbox
 * all that waited as one request when one of those finishes. Under load every gateway turn would
 * otherwise be its own inbox request, reply, directory lookup and delivery batch to each gateway
 * instance; this way a group commit costs one of each. One request more than the inbox commits at
 * once is out at a time, so the next one is already queued at the inbox when a commit ends (the
 * inbox does not idle for the router's round trip); a lone send goes out at once. Requests leave in
 * order; the inbox answers those that write the same inbox in order, others as their commits end.
 *
 * <p>What waits is bounded by time: a command is refused at once with {@code overloaded}, before
 * it costs a lookup or a commit, when the store would take longer than the limit, at its current
 * rate ({@link DrainRate}), to answer the requests ahead of it: those waiting here, counted as
 * they will leave (whole gateway turns that fit a request, so a request is often less than full),
 * and those already with the inbox. It is also refused when the oldest waiting command has
 * already waited longer than the limit (which also covers a store that stopped answering). A
 * command that rides the next request is always taken, so the store always has a full request
 * waiting to commit, however slow its commits. So what is accepted is answered within about the
 * limit plus one interval between the store's answers (or one commit, if commits are slower),
 * whatever the excess. A bound on copies keeps memory bounded as well. Confined to the router's
 * context.
 */
final class InboxBatcher {

  /** Commands waiting for a request, and the promise of their entries. */
  private record Waiting(List<SendCommand> commands, int copies, long sinceNanos,
                         Promise<List<SendBatchResult.Entry>> entries) {
  }

  /** Requests with the inbox at a time: as many as it commits at once, and one queued behind them. */
  private final int maxInFlight;
  private final int maxCopies;
  private final int maxWaitingCopies;
  private final long maxWaitNanos;
  private final LongSupplier nanoClock;
  private final DrainRate drainRate;
  private final Function<List<SendCommand>, Future<List<SendBatchResult.Entry>>> inbox;
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private int waitingCopies;
  /** Requests the waiting commands will leave in, packed as {@link #dispatch} packs them. */
  private int waitingRequests;
  /** Copies in the last of those requests, which later commands may still join. */
  private int lastRequestCopies;
  private int inFlight;

  /**
   * @param commitsAtOnce how many commits the inbox runs at once ({@code InboxConfig#appendsInFlight})
   * @param maxCopies most copies (one per recipient) in one request, unless a single command has
   *                  more: the inbox's largest group commit
   * @param maxWaitingCopies most copies waiting for a request: beyond that the store is behind and
   *                  new commands are refused with {@code overloaded} instead of held in memory
   *                  (a single command is taken when nothing waits, however many copies it has)
   * @param maxWaitMillis longest a new command may expect to wait for a request, and the oldest
   *                  waiting one may have waited ({@code limits.maxQueueMillis}); beyond it new
   *                  commands are refused with {@code overloaded}
   * @param nanoClock what time it is, as {@link System#nanoTime()} tells it
   * @param inbox     stores and delivers commands; one entry per command, in order
   */
  InboxBatcher(int commitsAtOnce, int maxCopies, int maxWaitingCopies, long maxWaitMillis, LongSupplier nanoClock,
      Function<List<SendCommand>, Future<List<SendBatchResult.Entry>>> inbox) {
    this.maxInFlight = commitsAtOnce + 1;
    this.maxCopies = maxCopies;
    this.maxWaitingCopies = maxWaitingCopies;
    this.maxWaitNanos = maxWaitMillis * 1_000_000L;
    this.drainRate = new DrainRate();
    this.nanoClock = nanoClock;
    this.inbox = inbox;
  }

  /**
   * One entry per command, in order; fails when the inbox request does, or at once with
   * {@code overloaded} when what waits ahead would hold it longer than {@code maxWaitMillis}, the
   * oldest waiting command has waited longer than that, or {@code maxWaitingCopies} are waiting.
   */
  Future<List<SendBatchResult.Entry>> submit(List<SendCommand> commands) {
    int copies = 0;
    for (SendCommand command : commands) {
      // A room message is one request to the store whatever its members: counted as one.
      copies += Math.max(1, command.to().size());
    }
    long now = nanoClock.getAsLong();
    if (!waiting.isEmpty()) {
      String behind = behind(now, copies);
      if (behind != null) {
        return Future.failedFuture(new ProtocolException(ErrorCode.OVERLOADED, "this node's store is behind ("
            + behind + "); nothing was stored: retry in a moment with the same id"));
      }
    }
    Promise<List<SendBatchResult.Entry>> entries = Promise.promise();
    if (joinsLastRequest(copies)) {
      lastRequestCopies += copies;
    } else {
      waitingRequests++;
      lastRequestCopies = copies;
    }
    waiting.add(new Waiting(commands, copies, now, entries));
    waitingCopies += copies;
    dispatch();
    return entries.future();
  }

  /** Why a command of {@code copies} cannot join what waits, or null when it can. */
  private String behind(long now, int copies) {
    long waitedNanos = now - waiting.peek().sinceNanos();
    if (waitedNanos > maxWaitNanos) {
      return "the oldest waiting send has waited " + waitedNanos / 1_000_000L + " ms, more than limits.maxQueueMillis";
    }
    int requestsAhead = joinsLastRequest(copies) ? waitingRequests - 1 : waitingRequests;
    long expectedNanos = drainRate.nanosFor(requestsAhead + inFlight);
    if (requestsAhead > 0 && expectedNanos > maxWaitNanos) {
      return waitingCopies + " copies wait for it in " + requestsAhead + " requests, behind " + inFlight
          + " with it: about " + expectedNanos / 1_000_000L + " ms of its commits, more than limits.maxQueueMillis";
    }
    if (waitingCopies + copies > maxWaitingCopies) {
      return waitingCopies + " copies wait for it, limits.maxQueuedCopies";
    }
    return null;
  }

  /** Whether a command of {@code copies} would leave in the last waiting request, as {@link #dispatch} packs them. */
  private boolean joinsLastRequest(int copies) {
    return !waiting.isEmpty() && lastRequestCopies + copies <= maxCopies;
  }

  /** Copies waiting for a request (the metrics scrape reads it from another thread; a stale value does). */
  int waitingCopies() {
    return waitingCopies;
  }

  private void dispatch() {
    while (inFlight < maxInFlight && !waiting.isEmpty()) {
      List<Waiting> batch = new ArrayList<>();
      List<SendCommand> commands = new ArrayList<>();
      int copies = 0;
      while (!waiting.isEmpty() && (batch.isEmpty() || copies + waiting.peek().copies() <= maxCopies)) {
        Waiting next = waiting.poll();
        waitingCopies -= next.copies();
        batch.add(next);
        commands.addAll(next.commands());
        copies += next.copies();
      }
      waitingRequests--;
      if (waiting.isEmpty()) {
        lastRequestCopies = 0;
      }
      inFlight++;
      Future<List<SendBatchResult.Entry>> request;
      try {
        request = inbox.apply(commands);
      } catch (RuntimeException e) {
        request = Future.failedFuture(e);
      }
      request.onComplete(done -> {
        drainRate.answered(nanoClock.getAsLong());
        inFlight--;
        int from = 0;
        for (Waiting w : batch) {
          int to = from + w.commands().size();
          if (done.succeeded()) {
            w.entries().complete(done.result().subList(from, to));
          } else {
            w.entries().fail(done.cause());
          }
          from = to;
        }
        dispatch();
      });
    }
    if (inFlight == maxInFlight) {
      drainRate.busy();
    }
  }
}
