package dev.switchboard.storage;

import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The inbox's page reads, taken together: while {@code inFlight} batches are being read, new reads
 * wait and go in the next batch, so that many sessions starting at once cost the store a few
 * queries instead of one each, and a lone read still goes at once. Used from the inbox's context only.
 */
final class PageReads {

  private record Waiting(ReadRequest request, Promise<InboxPage> page) {
  }

  private final int inFlightMax;
  private final int batchMax;
  private final Function<List<ReadRequest>, List<Future<InboxPage>>> reader;
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private int inFlight;

  /** {@code reader} reads a batch and answers each read on its own, in order. */
  PageReads(int inFlightMax, int batchMax, Function<List<ReadRequest>, List<Future<InboxPage>>> reader) {
    this.inFlightMax = inFlightMax;
    this.batchMax = batchMax;
    this.reader = reader;
  }

  Future<InboxPage> read(ReadRequest request) {
    Promise<InboxPage> page = Promise.promise();
    waiting.add(new Waiting(request, page));
    startBatches();
    return page.future();
  }

  /** Reads queued and batches being read, for tests. */
  int waiting() {
    return waiting.size();
  }

  int inFlight() {
    return inFlight;
  }

  private void startBatches() {
    while (inFlight < inFlightMax && !waiting.isEmpty()) {
      List<Waiting> batch = new ArrayList<>(Math.min(waiting.size(), batchMax));
      while (batch.size() < batchMax && !waiting.isEmpty()) {
        batch.add(waiting.poll());
      }
      inFlight++;
      List<Future<InboxPage>> pages;
      try {
        pages = reader.apply(batch.stream().map(Waiting::request).toList());
      } catch (RuntimeException e) {
        pages = batch.stream().map(w -> Future.<InboxPage>failedFuture(e)).toList();
      }
      for (int i = 0; i < batch.size(); i++) {
        pages.get(i).onComplete(batch.get(i).page());
      }
      Future.join(pages).onComplete(done -> {
        inFlight--;
        startBatches();
      });
    }
  }
}
