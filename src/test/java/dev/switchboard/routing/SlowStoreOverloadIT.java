package dev.switchboard.routing;

import dev.switchboard.support.PostgresProxy;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node whose store is slower than the sends offered to it, through real sockets: PostgreSQL is
 * reached through a proxy that answers every round trip {@link #REPLY_DELAY_MILLIS} late, and a
 * commit holds at most {@link #BATCH} copies, so the store carries about {@code BATCH} copies per
 * commit time, which the test measures first. Offered half
 * as much again, the node must answer what it accepts within about {@code limits.maxQueueMillis}
 * (scaled by how far the offer exceeds what it carries) plus a few commits, refuse the rest with
 * {@code overloaded} at once, and still commit at least 90% of that rate.
 * Without a bound on time, accepted sends wait longer the longer the overload lasts (seconds here).
 */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class SlowStoreOverloadIT {

  private static final long REPLY_DELAY_MILLIS = 40;
  private static final int BATCH = 30;
  private static final long MAX_QUEUE_MILLIS = 250;
  private static final double OVERLOAD = 1.5;
  private static final long OFFER_MILLIS = 6_000;
  private static final int SENDERS = 4;
  // Each sender spreads its sends over many recipients, as a node's many users do.
  private static final int RECIPIENTS = 2 * BATCH;

  @TempDir
  Path dataDir;

  /** What the sends of the overload got back. */
  private static final class Tally {
    final Map<String, Long> sentAt = new ConcurrentHashMap<>();
    final List<Long> acceptedMillis = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong refused = new AtomicLong();
    final List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong answered = new AtomicLong();
    volatile long sent = -1;
    final Promise<Void> done = Promise.promise();

    void onFrame(String text) {
      JsonObject frame = new JsonObject(text);
      String type = frame.getString("type");
      if (!"accepted".equals(type) && !"error".equals(type)) {
        return;
      }
      Long at = sentAt.remove(frame.getString("id"));
      if (at == null) {
        unexpected.add(text);
        return;
      }
      if ("accepted".equals(type)) {
        acceptedMillis.add((System.nanoTime() - at) / 1_000_000L);
      } else if ("overloaded".equals(frame.getString("code"))) {
        refused.incrementAndGet();
      } else {
        unexpected.add(text);
      }
      if (answered.incrementAndGet() == sent) {
        done.tryComplete();
      }
    }
  }

  @Test
  @DisplayName("offered 1.5 times what its store commits, a node answers what it accepts within limits.maxQueueMillis "
      + "and a few commits, refuses the rest with overloaded at once, and keeps committing at its full rate")
  void boundedLatencyUnderOverload(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) {
    onSlowStore(vertx, ctx, postgres, (senders, full) -> overload(vertx, senders, full, OVERLOAD * carriedPerMilli(full),
        n -> "r" + ((n / SENDERS) % RECIPIENTS)).map(tally -> {
      verify(ctx, tally, full, true);
      return null;
    }));
  }

  @Test
  @DisplayName("one connection sending to one peer faster than the store commits gets its accepted sends answered "
      + "within limits.maxQueueMillis and a few commits, the excess refused with overloaded")
  void oneConversationOverloaded(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) {
    // Each sender writes to one peer only, at four times what the store commits.
    onSlowStore(vertx, ctx, postgres, (senders, full) -> overload(vertx, senders, full,
        4 * carriedPerMilli(full), n -> "r" + (n % SENDERS)).map(tally -> {
      verify(ctx, tally, full, false);
      return null;
    }));
  }

  /** Starts a node on a PostgreSQL that answers {@link #REPLY_DELAY_MILLIS} late, then runs {@code load}. */
  private void onSlowStore(Vertx vertx, VertxTestContext ctx, TestPostgres postgres,
      java.util.function.BiFunction<List<WsClient>, Long, Future<Void>> load) {
    String database = postgres.createDatabase();
    PostgresProxy.start(vertx, database).compose(proxy -> {
      JsonObject overrides = new JsonObject()
          .put("inbox", new JsonObject().put("engine", "postgres").put("postgresUri", proxy.uri())
              .put("postgresPoolSize", 2).put("postgresCommitsInFlight", 1).put("batchMaxMessages", BATCH))
          .put("limits", new JsonObject().put("messagesPerSecond", 100_000).put("messageBurst", 100_000)
              .put("maxQueueMillis", MAX_QUEUE_MILLIS));
      return TestServer.start(vertx, dataDir, overrides).compose(server -> {
        List<Future<WsClient>> connecting = new ArrayList<>();
        for (int i = 0; i < SENDERS; i++) {
          connecting.add(server.online("s" + i, "d"));
        }
        return Future.all(connecting).compose(all -> {
          List<WsClient> senders = all.list();
          proxy.delayReplies(REPLY_DELAY_MILLIS);
          return fullCommitMillis(senders.get(0), 5).compose(full -> load.apply(senders, full));
        });
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  /**
   * How long a full commit takes with nothing else going on: {@link #BATCH} sends written at once
   * (one request to the store) until the last is accepted; the median of {@code n} after a few that
   * ready the store's connections. Under load the store commits one request while the next waits
   * for it, so it carries at least a full commit per this time.
   */
  private static Future<Long> fullCommitMillis(WsClient client, int n) {
    List<Long> took = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n + 3; i++) {
      int k = i;
      chain = chain.compose(v -> {
        long start = System.nanoTime();
        for (int j = 0; j < BATCH; j++) {
          client.sendMessage("full-" + k + "-" + j, "r" + (j % RECIPIENTS), "full");
        }
        return client.expect("accepted", BATCH).map(accepted -> {
          if (k >= 3) {
            took.add((System.nanoTime() - start) / 1_000_000L);
          }
          return null;
        });
      });
    }
    return chain.map(v -> {
      Collections.sort(took);
      return took.get(took.size() / 2);
    });
  }

  /** Offers {@code perMilli} sends for {@link #OFFER_MILLIS}, spread over the senders, send n to {@code recipientOf(n)}. */
  private static Future<Tally> overload(Vertx vertx, List<WsClient> senders, long commitMillis, double perMilli,
      java.util.function.LongFunction<String> recipientOf) {
    Tally tally = new Tally();
    senders.forEach(s -> s.socket().textMessageHandler(tally::onFrame));
    long start = System.nanoTime();
    long[] count = {0};
    vertx.setPeriodic(5, timer -> {
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000L;
      long due = (long) (Math.min(elapsedMillis, OFFER_MILLIS) * perMilli);
      for (; count[0] < due; count[0]++) {
        long n = count[0];
        String id = "o-" + n;
        tally.sentAt.put(id, System.nanoTime());
        senders.get((int) (n % SENDERS)).sendMessage(id, recipientOf.apply(n), "load " + n);
      }
      if (elapsedMillis >= OFFER_MILLIS) {
        vertx.cancelTimer(timer);
        tally.sent = count[0];
        if (tally.answered.get() == tally.sent) {
          tally.done.tryComplete();
        }
      }
    });
    return tally.done.future().map(tally);
  }

  /** What the store carries, at least: a full commit per {@code commitMillis}. */
  private static double carriedPerMilli(long commitMillis) {
    return (double) BATCH / commitMillis;
  }

  /** Checks answers and latency; with {@code fullRate}, also that the store carried at least 90% of what it can. */
  private static void verify(VertxTestContext ctx, Tally tally, long commitMillis, boolean fullRate) {
    List<Long> latencies = new ArrayList<>(tally.acceptedMillis);
    Collections.sort(latencies);
    long accepted = latencies.size();
    long max = latencies.isEmpty() ? 0 : latencies.get(latencies.size() - 1);
    long p50 = latencies.isEmpty() ? 0 : latencies.get(latencies.size() / 2);
    double carriedPerMilli = carriedPerMilli(commitMillis);
    // An accepted send waits at most the limit, or one full request, for its own request; at the
    // start, before the store's rate is known, the limit times the offer over what the store
    // carries, under twice the limit. Then behind the commit running and the request queued at the
    // inbox, then for its own commit: four commits in all.
    long bound = 2 * MAX_QUEUE_MILLIS + 4 * commitMillis;
    String summary = String.format("full commit %d ms, sent %d, accepted %d (p50 %d ms, max %d ms), refused %d; "
            + "bound %d ms, store carries %.0f/s", commitMillis, tally.sent, accepted,
        p50, max, tally.refused.get(), bound,
        carriedPerMilli * 1000);
    System.out.println("SlowStoreOverloadIT: " + summary);
    ctx.verify(() -> {
      assertEquals(List.of(), tally.unexpected, "only accepted and overloaded answers: " + summary);
      assertEquals(tally.sent, accepted + tally.refused.get(), summary);
      assertTrue(tally.refused.get() > 0, "the excess is refused: " + summary);
      assertTrue(max <= bound, "every accepted send answered within the bound: " + summary);
      // Half of them wait no longer than the limit and three commits: the full request that may always
      // wait ahead of them, the one running and their own.
      assertTrue(p50 <= MAX_QUEUE_MILLIS + 3 * commitMillis, "the median within the limit and three commits: " + summary);
      if (fullRate) {
        assertTrue(accepted >= 0.9 * carriedPerMilli * OFFER_MILLIS,
            "at least 90% of what the store carries goes through: " + summary);
      }
    });
  }
}
