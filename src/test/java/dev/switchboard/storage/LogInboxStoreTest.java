package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store contract on the log engine (real files in a temporary directory), and what is its own:
 * torn writes cut off at open, damage elsewhere refused, segments rolled and deleted without losing
 * heads or cursors, bodies shared by the copies of a send, entries longer than the first read.
 */
class LogInboxStoreTest extends InboxStoreContractTest {

  @Override
  JsonObject engineSettings() {
    return new JsonObject().put("engine", "log");
  }

  @Override
  InboxStore newStore(Vertx vertx, InboxConfig config) {
    return new LogInboxStore(vertx, config);
  }

  private InboxConfig config(int cap, int segmentMegabytes) throws Exception {
    return config(cap, new JsonObject().put("segmentMegabytes", segmentMegabytes));
  }

  private static AppendRequest send(String to, String body, long ts) {
    return new AppendRequest("alice", body, ts, null, List.of(new AppendRequest.Recipient(to, "m-" + body)));
  }

  /** The segment files, oldest first (index files beside them are not segments). */
  private List<Path> segments() throws IOException {
    try (Stream<Path> files = Files.list(dataDir.resolve("log"))) {
      return files.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
    }
  }

  private static List<String> bodies(InboxPage page) {
    return page.messages().stream().map(StoredMessage::body).toList();
  }

  /** Appends {@code n} sends to bob, each its own commit, bodies "0".."n-1". */
  private static Future<Void> appendEach(InboxStore store, int from, int n, String bodyPrefix, long ts) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = from; i < from + n; i++) {
      String body = bodyPrefix + i;
      chain = chain.compose(x -> store.append(List.of(send("bob", body, ts)), List.of(), ts).mapEmpty());
    }
    return chain;
  }

  @Test
  @DisplayName("a record torn by a crash at the end of the log is cut off at open; everything before it stays")
  void tornTail(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> appendEach(store, 0, 3, "b", 10))
        .compose(v -> store.close())
        .compose(v -> vertx.executeBlocking(() -> {
          // Half a record: a header that promises more bytes than follow, as a crash mid-write leaves.
          Path last = segments().get(segments().size() - 1);
          try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.allocate(12).putInt(500).putInt(42).putInt(7).flip());
          }
          return Files.size(last);
        }))
        .compose(tornSize -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open()
              .compose(x -> reopened.append(List.of(send("bob", "after", 20)), List.of(), 20))
              .compose(x -> reopened.read("bob", 0, 10, 20))
              .eventually(reopened::close)
              .compose(page -> {
                ctx.verify(() -> assertEquals(List.of("b0", "b1", "b2", "after"), bodies(page)));
                // And the file reopens cleanly once more: the garbage is gone, not skipped.
                InboxStore third = newStore(vertx, config);
                return third.open().compose(x -> third.read("bob", 0, 10, 20)).eventually(third::close);
              });
        })
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertEquals(List.of("b0", "b1", "b2", "after"), bodies(page));
          assertEquals(List.of(1L, 2L, 3L, 4L), page.messages().stream().map(StoredMessage::seq).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("with inbox.verifyInBackground=false, a damaged record in an older segment fails the open instead of silently dropping messages")
  void damageRefused(Vertx vertx, VertxTestContext ctx) throws Exception {
    // With the default (true) the start trusts the whole index and the damage is found after it: SegmentCheckTest.
    InboxConfig config = config(100, new JsonObject().put("segmentMegabytes", 1).put("verifyInBackground", false));
    InboxStore store = newStore(vertx, config);
    String big = "x".repeat(300_000);
    store.open()
        .compose(v -> appendEach(store, 0, 5, big, 10))
        .compose(v -> store.close())
        .compose(v -> vertx.executeBlocking(() -> {
          List<Path> files = segments();
          assertTrue(files.size() >= 2, "expected several segments, got " + files);
          return files.get(0);
        }))
        .onComplete(ctx.succeeding(first -> overwriteThenReopen(vertx, ctx, config, first, 5_000,
            ByteBuffer.wrap(new byte[] {'!', '!', '!'}), "is damaged")));
  }

  /** Overwrites bytes of {@code file} at {@code offset}, and expects opening the store to fail with {@code refusal}. */
  private void overwriteThenReopen(Vertx vertx, VertxTestContext ctx, InboxConfig config, Path file, long offset,
                                   ByteBuffer bytes, String refusal) {
    vertx.executeBlocking(() -> {
          try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(bytes, offset);
          }
          return null;
        })
        .compose(v -> newStore(vertx, config).open())
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertTrue(e.getMessage().contains(refusal), e.getMessage());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a segment from a newer format version is refused")
  void newerFormatRefused(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    InboxStore store = newStore(vertx, config);
    store.open().compose(v -> store.close())
        .compose(v -> vertx.executeBlocking(() -> segments().get(0)))
        .onComplete(ctx.succeeding(first -> overwriteThenReopen(vertx, ctx, config, first, 4,
            ByteBuffer.allocate(4).putInt(LogSegments.FORMAT_VERSION + 1).flip(), "newer than this build knows")));
  }

  @Test
  @DisplayName("full segments roll over; once expired they are deleted, and heads and cursors outlive them")
  void segmentsRollAndExpire(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(1000, 1);
    InboxStore store = newStore(vertx, config);
    String big = "y".repeat(300_000);
    long later = 2 * HOUR;
    List<Integer> counts = new ArrayList<>();
    store.open()
        .compose(v -> appendEach(store, 0, 12, big, 10))
        .compose(v -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 12)), 10))
        .compose(v -> vertx.executeBlocking(() -> segments().size()))
        .compose(n -> {
          counts.add(n);
          // Two purges past retention: the first drops the expired segments, the second deletes their files.
          return store.purge(later).compose(removed -> {
            ctx.verify(() -> assertEquals(12L, removed));
            return store.purge(later + 1);
          });
        })
        .compose(v -> store.append(List.of(send("bob", "fresh", later)), List.of(), later))
        .compose(v -> vertx.executeBlocking(() -> segments().size()))
        .compose(n -> {
          counts.add(n);
          return store.close();
        })
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open()
              .compose(x -> reopened.cursor("bob", "phone").compose(cursor -> {
                ctx.verify(() -> assertEquals(12L, cursor));
                return reopened.read("bob", 0, 100, later);
              }))
              .compose(page -> {
                ctx.verify(() -> {
                  assertEquals(13L, page.head());
                  assertEquals(List.of("fresh"), bodies(page));
                  assertEquals(13L, page.messages().get(0).seq());
                });
                return reopened.append(List.of(send("bob", "next", later)), List.of(), later);
              })
              .eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(results -> ctx.verify(() -> {
          assertTrue(counts.get(0) >= 3, "12 x 300 KB in 1 MiB segments: " + counts);
          assertTrue(counts.get(1) <= 2, "expired segments deleted: " + counts);
          assertEquals(14L, results.get(0).results().get(0).seq());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a crash between creating a segment and writing its checkpoint loses no head or cursor once older segments expire")
  void crashDuringRoll(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100);
    long later = 2 * HOUR;
    InboxStore store = newStore(vertx, config);
    store.open()
        .compose(v -> store.append(List.of(send("bob", "one", 10), send("carol", "only", 10)),
            List.of(new CursorUpdate("bob", "phone", 1)), 10))
        .compose(v -> store.close())
        .compose(v -> vertx.executeBlocking(() -> {
          // What a crash right after a roll created the next file leaves: a header and nothing else.
          Path last = segments().get(segments().size() - 1);
          long next = Long.parseLong(last.getFileName().toString().replace(".log", "")) + Files.size(last);
          Files.write(dataDir.resolve("log").resolve(String.format("%020d.log", next)),
              ByteBuffer.allocate(8).putInt(LogSegments.MAGIC).putInt(LogSegments.FORMAT_VERSION).array());
          return null;
        }))
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          // Past retention: the first segment's messages expire and two purges delete its file.
          return reopened.open()
              .compose(x -> reopened.append(List.of(send("bob", "two", later)), List.of(), later))
              .compose(x -> reopened.purge(later))
              .compose(x -> reopened.purge(later + 1))
              .eventually(reopened::close);
        })
        .compose(v -> {
          InboxStore third = newStore(vertx, config);
          return third.open()
              .compose(x -> third.cursor("bob", "phone").compose(cursor -> {
                ctx.verify(() -> assertEquals(1L, cursor));
                return third.append(List.of(send("carol", "again", later)), List.of(), later);
              }))
              .eventually(third::close);
        })
        .onComplete(ctx.succeeding(results -> ctx.verify(() -> {
          assertEquals(2L, results.get(0).results().get(0).seq(), "carol's seq continues after her expired message");
          assertTrue(segments().size() <= 3, "expired segments deleted: " + segments());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a key whose segment expired and was deleted (retention shorter than the key window) is simply not a duplicate")
  void keyInDeletedSegment(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100, new JsonObject().put("retentionSeconds", 1).put("idempotencyWindowSeconds", 60));
    InboxStore store = newStore(vertx, config);
    AppendRequest keyed = new AppendRequest("alice", "hello", 0, "k", List.of(new AppendRequest.Recipient("bob", "m-1")));
    AppendRequest again = new AppendRequest("alice", "hello", 61_003, "k", List.of(new AppendRequest.Recipient("bob", "m-2")));
    store.open()
        .compose(v -> store.append(List.of(keyed), List.of(), 0))
        // Roll the old segment, retire it, delete it: the key's entry is gone from disk.
        .compose(v -> store.purge(61_000))
        .compose(v -> store.purge(61_001))
        .compose(v -> store.purge(61_002))
        .compose(v -> store.append(List.of(again), List.of(), 61_003))
        .eventually(store::close)
        .onComplete(ctx.succeeding(results -> ctx.verify(() -> {
          assertTrue(!results.get(0).duplicate());
          assertEquals(2L, results.get(0).results().get(0).seq());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("membership and roomSeqs outlive the segments that held the room's events: rolled, expired, deleted, reopened")
  void roomsOutliveExpiredSegments(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(1000, 1);
    InboxStore store = newStore(vertx, config);
    String big = "y".repeat(300_000);
    long later = 2 * HOUR;
    List<Integer> counts = new ArrayList<>();
    Future<Void> setup = store.open()
        .compose(v -> store.changeRoom(new RoomChange(RoomChange.Op.CREATE, "r", null, "alice", false, "e1", 10), 10))
        .compose(v -> store.changeRoom(new RoomChange(RoomChange.Op.ADD, "r", "bob", "alice", false, "e2", 10), 10))
        .mapEmpty();
    for (int i = 0; i < 12; i++) {
      String body = big + i;
      setup = setup.compose(v -> store.append(List.of(AppendRequest.toRoom("alice", "r", "m" + body.length(), body, 10,
          null, false)), List.of(), 10).mapEmpty());
    }
    setup
        .compose(v -> vertx.executeBlocking(() -> segments().size()))
        .compose(n -> {
          counts.add(n);
          // Three purges past retention: expired segments dropped, then deleted, then the last one rolled and deleted.
          return store.purge(later).compose(x -> store.purge(later + 1)).compose(x -> store.purge(later + 2));
        })
        .compose(v -> vertx.executeBlocking(() -> segments().size()))
        .compose(n -> {
          counts.add(n);
          return store.close();
        })
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open()
              .compose(x -> reopened.room("r"))
              .compose(info -> {
                ctx.verify(() -> assertEquals(new RoomInfo("r", "alice", 14, List.of("alice", "bob")), info));
                return reopened.append(List.of(AppendRequest.toRoom("bob", "r", "m-after", "after", later, null, false)),
                    List.of(), later);
              })
              .compose(sent -> {
                ctx.verify(() -> {
                  assertEquals(15L, sent.get(0).roomSeq());
                  assertEquals(List.of(15L, 14L), sent.get(0).results().stream().map(r -> r.seq()).toList());
                });
                return reopened.rooms("bob");
              })
              .eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(bobsRooms -> ctx.verify(() -> {
          assertTrue(counts.get(0) >= 3, "12 x 300 KB in 1 MiB segments: " + counts);
          assertEquals(1, counts.get(1), "every segment holding the room's events deleted: " + counts);
          assertEquals(List.of("r"), bobsRooms);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a room message to many members stores the body once, and each member reads it back whole")
  void roomMessageSharesBody(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    String body = "z".repeat(50_000);
    Future<?> setup = store.open()
        .compose(v -> store.changeRoom(new RoomChange(RoomChange.Op.CREATE, "big", null, "owner", false, "e0", 1), 1));
    for (int i = 0; i < 200; i++) {
      String member = "user" + i;
      setup = setup.compose(v -> store.changeRoom(new RoomChange(RoomChange.Op.ADD, "big", member, "owner", false,
          "e-" + member, 1), 1));
    }
    long[] before = new long[1];
    setup
        .compose(v -> vertx.executeBlocking(() -> Files.size(segments().get(0))))
        .compose(size -> {
          before[0] = size;
          return store.append(List.of(AppendRequest.toRoom("owner", "big", "m-big", body, 5, null, false)), List.of(), 5);
        })
        .compose(v -> vertx.executeBlocking(() -> Files.size(segments().get(0))))
        .compose(size -> {
          ctx.verify(() -> assertTrue(size - before[0] < 2 * body.length(), "201 copies of 50 KB in " + (size - before[0]) + " bytes"));
          return store.read("user199", 0, 10, 5);
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertEquals(new StoredMessage("m-big", 2, "owner", "user199", body, 5, "big", 202, null),
              page.messages().get(page.messages().size() - 1));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("the copies of one send to many recipients store the body once, and each reads back whole")
  void fanOutSharesBody(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    String body = "z".repeat(50_000);
    List<AppendRequest.Recipient> to = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      to.add(new AppendRequest.Recipient("user" + i, "m" + i));
    }
    store.open()
        .compose(v -> store.append(List.of(new AppendRequest("push", body, 5, null, to)), List.of(), 5))
        .compose(v -> vertx.executeBlocking(() -> Files.size(segments().get(0))))
        .compose(size -> {
          ctx.verify(() -> assertTrue(size < 2 * body.length(), "200 copies of 50 KB in " + size + " bytes"));
          return store.read("user199", 0, 10, 5);
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertEquals(List.of(new StoredMessage("m199", 1, "push", "user199", body, 5)), page.messages());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("many sends in one commit keep their order and seqs across a reopen, with bodies of every length")
  void manyInOneCommit(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(10_000);
    InboxStore store = newStore(vertx, config);
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      // Lengths around the first read of an entry, and multi-byte characters.
      batch.add(send(i % 2 == 0 ? "bob" : "carol", "é".repeat(i * 7) + i, 3));
    }
    store.open()
        .compose(v -> store.append(batch, List.of(), 3))
        .compose(results -> {
          ctx.verify(() -> assertEquals(250L, results.get(499).results().get(0).seq()));
          return store.close();
        })
        .compose(v -> {
          InboxStore reopened = newStore(vertx, config);
          return reopened.open().compose(x -> reopened.read("carol", 100, 1000, 3)).eventually(reopened::close);
        })
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertEquals(150, page.messages().size());
          for (int j = 0; j < 150; j++) {
            int i = 2 * (100 + j) + 1;
            assertEquals("é".repeat(i * 7) + i, page.messages().get(j).body());
            assertEquals(101L + j, page.messages().get(j).seq());
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("an idempotency key replays the answer it gave, read back from the log")
  void keyReplaysStoredAnswer(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxStore store = newStore(vertx, config(100));
    AppendRequest keyed = new AppendRequest("alice", "hello", 7, "k-1",
        List.of(new AppendRequest.Recipient("bob", "m-1"), new AppendRequest.Recipient("carol", "m-2")));
    List<AppendResult> first = new ArrayList<>();
    store.open()
        .compose(v -> store.append(List.of(keyed), List.of(), 7))
        .compose(results -> {
          first.addAll(results);
          return store.append(List.of(keyed), List.of(), 8);
        })
        .eventually(store::close)
        .onComplete(ctx.succeeding(replay -> ctx.verify(() -> {
          assertTrue(replay.get(0).duplicate());
          assertEquals(first.get(0).results(), replay.get(0).results());
          ctx.completeNow();
        })));
  }
}
