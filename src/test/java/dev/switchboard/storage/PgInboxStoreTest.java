package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.support.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store contract on PostgreSQL (a real server, a fresh database per test), and what only the
 * shared engine must do: several nodes writing the same inboxes at once.
 */
@ExtendWith(TestPostgres.Extension.class)
class PgInboxStoreTest extends InboxStoreContractTest {

  private static final List<String> RECIPIENTS = List.of("r0", "r1", "r2");

  private String uri;

  @BeforeEach
  void freshDatabase(TestPostgres postgres) {
    uri = postgres.createDatabase();
  }

  @Override
  JsonObject engineSettings() {
    return new JsonObject().put("engine", "postgres").put("postgresUri", uri).put("postgresPoolSize", 4);
  }

  @Override
  InboxStore newStore(Vertx vertx, InboxConfig config) {
    return new PgInboxStore(vertx, config);
  }

  /** A send from {@code from} to one recipient, whose copy is {@code msgId}; {@code key} may be null. */
  private static AppendRequest toOne(String from, String body, long ts, String key, String to, String msgId) {
    return new AppendRequest(from, body, ts, key, List.of(new AppendRequest.Recipient(to, msgId)));
  }

  @Test
  @DisplayName("two nodes appending to the same inboxes at once give each inbox seqs 1..N exactly once, "
      + "store a key shared by both once, and every page read meanwhile is complete up to its head")
  void twoNodesAppendConcurrently(Vertx vertx, VertxTestContext ctx) throws Exception {
    int rounds = 30;
    InboxConfig config = config(100_000);
    PgInboxStore nodeA = new PgInboxStore(vertx, config);
    PgInboxStore nodeB = new PgInboxStore(vertx, config);
    List<AppendResult> results = new ArrayList<>();
    List<InboxPage> pagesSeen = new ArrayList<>();
    // Both open at once: the schema is created by one, under its lock, and found by the other.
    Future.all(nodeA.open(), nodeB.open())
        .compose(v -> {
          Future<Void> a = appendRounds(nodeA, "a", rounds, results);
          Future<Void> b = appendRounds(nodeB, "b", rounds, results);
          Future<Void> both = Future.all(a, b).mapEmpty();
          Promise<Void> readsDone = Promise.promise();
          readUntil(nodeA, both, pagesSeen, readsDone);
          return Future.all(both, readsDone.future());
        })
        .compose(v -> Future.all(RECIPIENTS.stream().map(r -> nodeB.read(r, 0, 10_000, 1)).toList()))
        .eventually(() -> Future.all(nodeA.close(), nodeB.close()))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          Map<String, Set<String>> storedIds = new HashMap<>();
          for (AppendResult result : results) {
            if (!result.duplicate()) {
              for (RecipientResult r : result.results()) {
                assertTrue(r.isStored());
                assertTrue(storedIds.computeIfAbsent(r.to(), k -> new HashSet<>()).add(r.msgId()));
              }
            }
          }
          // Each round's shared key went through both nodes: stored by one, replayed by the other.
          assertEquals(rounds, results.stream().filter(AppendResult::duplicate).count());
          int total = 0;
          for (int i = 0; i < RECIPIENTS.size(); i++) {
            InboxPage page = all.resultAt(i);
            Set<String> ids = storedIds.get(RECIPIENTS.get(i));
            List<Long> seqs = page.messages().stream().map(StoredMessage::seq).toList();
            assertEquals(LongStream.rangeClosed(1, ids.size()).boxed().toList(), seqs);
            assertEquals(ids.size(), page.head());
            assertEquals(ids, new HashSet<>(page.messages().stream().map(StoredMessage::msgId).toList()));
            total += ids.size();
          }
          assertTrue(total >= 500, "only " + total + " messages");
          assertFalse(pagesSeen.isEmpty());
          for (InboxPage page : pagesSeen) {
            List<Long> seqs = page.messages().stream().map(StoredMessage::seq).toList();
            assertEquals(LongStream.rangeClosed(1, seqs.size()).boxed().toList(), seqs);
            assertEquals(page.head(), seqs.size(), "a page without the messages up to its head");
          }
          ctx.completeNow();
        })));
  }

  /**
   * One node's appends, one batch after another as its inbox verticle sends them: each round a
   * batch of requests to two or three of the recipients, in an order that differs between nodes,
   * plus one request with a key that the other node sends the same round.
   */
  private static Future<Void> appendRounds(PgInboxStore store, String node, int rounds, List<AppendResult> results) {
    Future<Void> chain = Future.succeededFuture();
    for (int round = 0; round < rounds; round++) {
      List<AppendRequest> batch = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        List<String> to = new ArrayList<>(RECIPIENTS.subList(0, 2 + (round + i) % 2));
        if (node.equals("b")) {
          java.util.Collections.reverse(to);
        }
        String body = node + " " + round + "." + i;
        batch.add(new AppendRequest("alice", body, 1, null,
            to.stream().map(r -> new AppendRequest.Recipient(r, body + " to " + r)).toList()));
      }
      String shared = "shared " + round;
      batch.add(new AppendRequest("alice", shared, 1, "key-" + round, RECIPIENTS.stream()
          .map(r -> new AppendRequest.Recipient(r, shared + " to " + r + " via " + node)).toList()));
      chain = chain.compose(v -> store.append(batch, List.of(), 1)).map(answers -> {
        results.addAll(answers);
        return null;
      });
    }
    return chain;
  }

  /** Reads the first recipient's inbox from the start, again and again, until {@code done}. */
  private static void readUntil(PgInboxStore store, Future<Void> done, List<InboxPage> pages, Promise<Void> finished) {
    store.read(RECIPIENTS.get(0), 0, 10_000, 1)
        .onFailure(finished::fail)
        .onSuccess(page -> {
          pages.add(page);
          if (done.isComplete()) {
            finished.complete();
          } else {
            readUntil(store, done, pages, finished);
          }
        });
  }

  @Test
  @DisplayName("a key committed by another node after this one looked for it makes the batch run again and answer "
      + "the other node's result, storing nothing twice")
  void keyTakenByAnotherNodeIsRetried(Vertx vertx, VertxTestContext ctx) throws Exception {
    PgInboxStore store = new PgInboxStore(vertx, config(100));
    AppendRequest request = toOne("alice", "hello", 5, "k", "bob", "mine");
    AppendResult theirs = new AppendResult(false, List.of(RecipientResult.stored("bob", "theirs", 1, 5)));
    Pool admin = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(uri)).using(vertx).build();
    store.open()
        .compose(v -> appendWhileAnotherNodeWrites(store, admin, request, "%INSERT INTO send_keys%", other -> other
            .preparedQuery("INSERT INTO send_keys (sender, send_key, created_at, fingerprint, result) VALUES ($1, $2, $3, $4, $5)")
            .execute(Tuple.of("alice", "k", 5L, AppendPlanner.fingerprint(request), theirs.toJson().encode()))))
        .compose(answers -> {
          ctx.verify(() -> {
            assertTrue(answers.get(0).duplicate());
            assertEquals(theirs.results(), answers.get(0).results());
          });
          return store.read("bob", 0, 10, 5);
        })
        .eventually(() -> Future.all(store.close(), admin.close()))
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertTrue(page.messages().isEmpty(), "this node stored its copy too: " + page.messages());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a commit writes its keys unread; one that meets a stored key runs again reading them, answers the "
      + "replay or id_reused, and commits read their keys first for a while after")
  void storedKeyMetUnreadIsRunAgain(Vertx vertx, VertxTestContext ctx) throws Exception {
    PgInboxStore store = new PgInboxStore(vertx, config(100));
    AppendRequest first = toOne("alice", "hello", 1_000, "k", "bob", "m1");
    AppendRequest other = toOne("alice", "other", 1_000, "k", "bob", "m2");
    long later = 2_000 + PgInboxStore.READ_KEYS_AFTER_STORED_MILLIS;
    List<Long> found = new ArrayList<>();
    List<AppendResult> answers = new ArrayList<>();
    whileOpen(ctx, store, () -> store.append(List.of(first), List.of(), 1_000)
        .compose(r -> record(store, found, answers, r, () -> store.append(List.of(first), List.of(), 2_000)))
        .compose(r -> record(store, found, answers, r, () -> store.append(List.of(first), List.of(), 3_000)))
        .compose(r -> record(store, found, answers, r, () -> store.append(List.of(other), List.of(), later)))
        .compose(r -> record(store, found, answers, r, () -> store.read("bob", 0, 10, later))), page -> {
          assertEquals(List.of(0L, 1L, 1L, 2L), found, "commits run again, after each answer");
          assertEquals(RecipientResult.stored("bob", "m1", 1, 1_000), answers.get(0).results().get(0));
          assertTrue(answers.get(1).duplicate());
          assertEquals(answers.get(0).results(), answers.get(1).results());
          assertTrue(answers.get(2).duplicate());
          assertEquals(answers.get(0).results(), answers.get(2).results());
          assertEquals(ErrorCode.ID_REUSED, answers.get(3).results().get(0).error());
          assertEquals(List.of("m1"), page.messages().stream().map(StoredMessage::msgId).toList());
        });
  }

  /** Keeps {@code answer} and how many commits have met a stored key so far, then runs {@code next}. */
  private static <T> Future<T> record(PgInboxStore store, List<Long> found, List<AppendResult> answers,
                                      List<AppendResult> answer, Supplier<Future<T>> next) {
    answers.add(answer.get(0));
    found.add(store.keysFoundStored());
    return next.get();
  }

  @Test
  @DisplayName("an inbox another node created after this one locked the batch's heads makes the batch run again, "
      + "and its copy goes after the other node's")
  void inboxCreatedByAnotherNodeIsRetried(Vertx vertx, VertxTestContext ctx) throws Exception {
    PgInboxStore store = new PgInboxStore(vertx, config(100));
    AppendRequest request = toOne("alice", "hello", 5, null, "bob", "mine");
    Pool admin = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(uri)).using(vertx).build();
    store.open()
        .compose(v -> appendWhileAnotherNodeWrites(store, admin, request, "%inboxes%", other -> other
            .preparedQuery("INSERT INTO inboxes (recipient, last_seq, stored) VALUES ($1, 1, 1)").execute(Tuple.of("bob"))
            .compose(x -> other.preparedQuery("INSERT INTO messages (recipient, seq, msg_id, sender, body, created_at)"
                + " VALUES ($1, 1, $2, $3, $4, 5)").execute(Tuple.of("bob", "theirs", "carol", "first")))))
        .compose(answers -> {
          ctx.verify(() -> assertEquals(List.of(RecipientResult.stored("bob", "mine", 2, 5)), answers.get(0).results()));
          return store.read("bob", 0, 10, 5);
        })
        .eventually(() -> Future.all(store.close(), admin.close()))
        .onComplete(ctx.succeeding(page -> ctx.verify(() -> {
          assertEquals(2, page.head());
          assertEquals(List.of("theirs", "mine"), page.messages().stream().map(StoredMessage::msgId).toList());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("one batch for many users, several to one request, with cursor moves, gives each inbox seq 1 and "
      + "its message, and stores every cursor")
  void oneBatchManyUsers(Vertx vertx, VertxTestContext ctx) throws Exception {
    int users = 300;
    PgInboxStore store = new PgInboxStore(vertx, config(100));
    List<AppendRequest> batch = new ArrayList<>();
    List<CursorUpdate> cursors = new ArrayList<>();
    for (int i = 0; i < users; i++) {
      batch.add(toOne("alice", "to u" + i, 7, null, "u" + i, "m" + i));
      cursors.add(new CursorUpdate("u" + i, "phone", i));
    }
    batch.add(new AppendRequest("alice", "all", 7, null, java.util.stream.IntStream.range(0, users)
        .mapToObj(i -> new AppendRequest.Recipient("u" + i, "all" + i)).toList()));
    whileOpen(ctx, store, () -> store.append(batch, cursors, 7)
        .compose(results -> {
          ctx.verify(() -> {
            assertEquals(users + 1, results.size());
            for (int i = 0; i < users; i++) {
              assertEquals(RecipientResult.stored("u" + i, "m" + i, 1, 7), results.get(i).results().get(0));
              assertEquals(RecipientResult.stored("u" + i, "all" + i, 2, 7), results.get(users).results().get(i));
            }
          });
          return Future.all(java.util.stream.IntStream.range(0, users)
              .mapToObj(i -> store.read("u" + i, 0, 10, 7).compose(page -> store.cursor("u" + i, "phone")
                  .map(cursor -> Map.entry(page, cursor)))).toList());
        }), all -> {
          for (int i = 0; i < users; i++) {
            Map.Entry<InboxPage, Long> found = all.resultAt(i);
            assertEquals(2, found.getKey().head());
            assertEquals(List.of("m" + i, "all" + i), found.getKey().messages().stream().map(StoredMessage::msgId).toList());
            assertEquals(i, found.getValue());
          }
        });
  }

  @Test
  @DisplayName("a device whose cursor moves several times in one batch keeps the highest, and never moves back")
  void cursorMovedTwiceInOneBatch(Vertx vertx, VertxTestContext ctx) throws Exception {
    PgInboxStore store = new PgInboxStore(vertx, config(100));
    whileOpen(ctx, store, () -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 5),
            new CursorUpdate("bob", "phone", 9), new CursorUpdate("bob", "phone", 7), new CursorUpdate("bob", "tab", 2)), 3)
        .compose(v -> store.append(List.of(), List.of(new CursorUpdate("bob", "phone", 4),
            new CursorUpdate("bob", "phone", 3)), 4))
        .compose(v -> Future.all(store.cursor("bob", "phone"), store.cursor("bob", "tab"))), both -> {
          assertEquals(9L, (Long) both.resultAt(0));
          assertEquals(2L, (Long) both.resultAt(1));
        });
  }

  @Test
  @DisplayName("a user met several times in one batch, twice in one request, gets consecutive seqs up to the cap, "
      + "then inbox_full, and the next batch goes on from the stored head")
  void repeatedUserInOneBatch(Vertx vertx, VertxTestContext ctx) throws Exception {
    PgInboxStore store = new PgInboxStore(vertx, config(5));
    List<AppendRequest> batch = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      batch.add(toOne("alice", "b" + i, 3, null, "bob", "b" + i));
    }
    batch.add(new AppendRequest("alice", "twice", 3, null, List.of(new AppendRequest.Recipient("bob", "t1"),
        new AppendRequest.Recipient("carol", "c1"), new AppendRequest.Recipient("bob", "t2"))));
    batch.add(toOne("alice", "over", 3, null, "bob", "over"));
    whileOpen(ctx, store, () -> store.append(batch, List.of(), 3)
        .compose(results -> {
          ctx.verify(() -> {
            for (int i = 0; i < 3; i++) {
              assertEquals(i + 1, results.get(i).results().get(0).seq());
            }
            assertEquals(List.of(RecipientResult.stored("bob", "t1", 4, 3), RecipientResult.stored("carol", "c1", 1, 3),
                RecipientResult.stored("bob", "t2", 5, 3)), results.get(3).results());
            assertEquals(RecipientResult.refused("bob", ErrorCode.INBOX_FULL), results.get(4).results().get(0));
          });
          return store.append(List.of(toOne("alice", "next", 4, null, "carol", "c2")), List.of(), 4);
        })
        .compose(results -> {
          ctx.verify(() -> assertEquals(2, results.get(0).results().get(0).seq()));
          return store.read("bob", 0, 10, 4);
        }), page -> {
          assertEquals(5, page.head());
          assertEquals(List.of("b0", "b1", "b2", "t1", "t2"), page.messages().stream().map(StoredMessage::msgId).toList());
        });
  }

  @Test
  @DisplayName("a key used twice in one batch stores once and replays for the retry, refuses a different message "
      + "with id_reused, and replays from the database in the next batch")
  void keyedRetriesInOneBatch(Vertx vertx, VertxTestContext ctx) throws Exception {
    PgInboxStore store = new PgInboxStore(vertx, config(100));
    AppendRequest first = toOne("alice", "hi", 3, "k1", "bob", "m1");
    AppendRequest retry = toOne("alice", "hi", 3, "k1", "bob", "m2");
    AppendRequest other = toOne("alice", "different", 3, "k1", "bob", "m3");
    AppendRequest otherSender = toOne("dan", "hi", 3, "k1", "bob", "m4");
    whileOpen(ctx, store, () -> store.append(List.of(first, retry, other, otherSender), List.of(), 3)
        .compose(results -> {
          ctx.verify(() -> {
            assertEquals(new AppendResult(false, List.of(RecipientResult.stored("bob", "m1", 1, 3))), results.get(0));
            assertEquals(new AppendResult(true, results.get(0).results()), results.get(1));
            assertEquals(RecipientResult.refused("bob", ErrorCode.ID_REUSED), results.get(2).results().get(0));
            assertEquals(RecipientResult.stored("bob", "m4", 2, 3), results.get(3).results().get(0));
          });
          return store.append(List.of(retry, otherSender), List.of(), 4);
        })
        .compose(results -> {
          ctx.verify(() -> {
            assertEquals(new AppendResult(true, List.of(RecipientResult.stored("bob", "m1", 1, 3))), results.get(0));
            assertEquals(new AppendResult(true, List.of(RecipientResult.stored("bob", "m4", 2, 3))), results.get(1));
          });
          return store.read("bob", 0, 10, 4);
        }), page -> assertEquals(List.of("m1", "m4"), page.messages().stream().map(StoredMessage::msgId).toList()));
  }

  @Test
  @DisplayName("a batch whose write fails in the database stores none of its messages, keys or cursors, moves no "
      + "head, and the store goes on with the next batch")
  void failedWriteRollsBackTheWholeBatch(Vertx vertx, VertxTestContext ctx) throws Exception {
    // PostgreSQL refuses a NUL character in text: the messages statement fails, after BEGIN and the locks.
    PgInboxStore store = new PgInboxStore(vertx, config(100, new JsonObject().put("postgresPoolSize", 1)));
    List<AppendRequest> bad = List.of(
        toOne("alice", "fine", 3, "k", "bob", "m1"),
        toOne("alice", "nul \u0000 inside", 3, null, "carol", "m2"));
    whileOpen(ctx, store, () -> store.append(bad, List.of(new CursorUpdate("bob", "phone", 9)), 3)
        .transform(failed -> {
          ctx.verify(() -> assertTrue(failed.failed(), "a body with NUL was stored"));
          return store.append(List.of(toOne("alice", "fine", 3, "k", "bob", "m3")), List.of(), 4);
        })
        .compose(results -> {
          ctx.verify(() -> assertEquals(new AppendResult(false, List.of(RecipientResult.stored("bob", "m3", 1, 3))),
              results.get(0)));
          return Future.all(store.read("bob", 0, 10, 4), store.read("carol", 0, 10, 4), store.cursor("bob", "phone"));
        }), all -> {
          InboxPage bob = all.resultAt(0);
          InboxPage carol = all.resultAt(1);
          assertEquals(List.of("m3"), bob.messages().stream().map(StoredMessage::msgId).toList());
          assertEquals(0, carol.head());
          assertEquals(0L, (Long) all.resultAt(2));
        });
  }

  /**
   * Opens {@code store}, runs {@code steps} on it, closes it whatever they gave, then checks their
   * result with {@code check} and completes the test.
   */
  private static <T> void whileOpen(VertxTestContext ctx, PgInboxStore store, Supplier<Future<T>> steps, Consumer<T> check) {
    store.open()
        .compose(v -> steps.get())
        .eventually(store::close)
        .onComplete(ctx.succeeding(result -> ctx.verify(() -> {
          check.accept(result);
          ctx.completeNow();
        })));
  }

  /**
   * Appends {@code request} (at time 5) while another node's transaction holds {@code theirs}
   * uncommitted, and commits that transaction once this node's commit waits on it in a statement
   * like {@code waitsIn}, that is after this node locked and read what it reads first. Answers this
   * node's results.
   */
  private static Future<List<AppendResult>> appendWhileAnotherNodeWrites(PgInboxStore store, Pool admin,
      AppendRequest request, String waitsIn, Function<SqlConnection, Future<?>> theirs) {
    return admin.getConnection().compose(other -> other.begin()
        .compose(tx -> theirs.apply(other).compose(x -> {
          Future<List<AppendResult>> mine = store.append(List.of(request), List.of(), 5);
          Promise<Void> waiting = Promise.promise();
          whenWaitingOn(admin, waitsIn, waiting);
          return waiting.future().compose(y -> tx.commit()).compose(y -> mine);
        }))
        .eventually(other::close));
  }

  /** Completes {@code waiting} once a statement of this database like {@code statement} waits on a lock. */
  private static void whenWaitingOn(Pool admin, String statement, Promise<Void> waiting) {
    admin.preparedQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            + " AND wait_event_type = 'Lock' AND query LIKE $1").execute(Tuple.of(statement))
        .onFailure(waiting::fail)
        .onSuccess(rows -> {
          if (rows.iterator().next().getLong(0) > 0) {
            waiting.complete();
          } else {
            whenWaitingOn(admin, statement, waiting);
          }
        });
  }
}
