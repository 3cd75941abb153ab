package dev.switchboard.storage;

import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageReadsTest {

  /** A reader whose batches are answered when the test says so. */
  private static final class HeldReader {
    final List<List<ReadRequest>> batches = new ArrayList<>();
    final List<List<Promise<InboxPage>>> answers = new ArrayList<>();

    List<Future<InboxPage>> read(List<ReadRequest> reads) {
      batches.add(reads);
      List<Promise<InboxPage>> promises = reads.stream().map(r -> Promise.<InboxPage>promise()).toList();
      answers.add(promises);
      return promises.stream().map(Promise::future).toList();
    }

    void answer(int batch) {
      List<ReadRequest> reads = batches.get(batch);
      for (int i = 0; i < reads.size(); i++) {
        answers.get(batch).get(i).complete(new InboxPage(0, reads.get(i).user().length(), List.of()));
      }
    }
  }

  private static ReadRequest read(String user) {
    return new ReadRequest(user, "d", null, 10);
  }

  @Test
  @DisplayName("a read goes at once while fewer batches than allowed are read; those that come meanwhile go together "
      + "in the next batch, each answered with its own page")
  void readsWaitingForABatchGoTogether() {
    HeldReader reader = new HeldReader();
    PageReads reads = new PageReads(2, 3, reader::read);
    Future<InboxPage> a = reads.read(read("a"));
    reads.read(read("bb"));
    assertEquals(2, reader.batches.size());
    List<Future<InboxPage>> waiting = new ArrayList<>();
    for (String user : List.of("ccc", "dddd", "eeeee", "ffffff")) {
      waiting.add(reads.read(read(user)));
    }
    assertEquals(2, reader.batches.size(), "nothing more while two batches are read");
    assertEquals(4, reads.waiting());

    reader.answer(0);
    assertEquals(1, a.result().head());
    assertEquals(3, reader.batches.size());
    assertEquals(List.of("ccc", "dddd", "eeeee"), reader.batches.get(2).stream().map(ReadRequest::user).toList(),
        "the next batch takes the waiting reads, up to its size");
    reader.answer(2);
    assertEquals(List.of(3L, 4L, 5L), waiting.subList(0, 3).stream().map(f -> f.result().head()).toList());
    assertEquals(List.of("ffffff"), reader.batches.get(3).stream().map(ReadRequest::user).toList());
    reader.answer(3);
    reader.answer(1);
    assertEquals(6L, waiting.get(3).result().head());
    assertEquals(0, reads.inFlight());
  }

  @Test
  @DisplayName("a batch that fails, or whose reader throws, fails each of its reads and frees its place for the next")
  void failedBatchFreesItsPlace() {
    List<List<ReadRequest>> batches = new ArrayList<>();
    PageReads reads = new PageReads(1, 10, batch -> {
      batches.add(batch);
      if (batches.size() == 1) {
        throw new IllegalStateException("closed");
      }
      return batch.stream().map(r -> Future.<InboxPage>failedFuture("down")).toList();
    });
    Future<InboxPage> thrown = reads.read(read("a"));
    Future<InboxPage> failed = reads.read(read("b"));
    Future<InboxPage> next = reads.read(read("c"));
    assertTrue(thrown.failed());
    assertEquals("closed", thrown.cause().getMessage());
    assertTrue(failed.failed());
    assertTrue(next.failed());
    assertEquals(3, batches.size());
    assertEquals(0, reads.inFlight());
  }
}
