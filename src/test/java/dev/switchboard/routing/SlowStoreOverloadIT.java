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
 * commit time. Offered half as much again, the node must answer what it accepts within about
 * {@code limits.maxQueueMillis} (scaled by how far the offer exceeds what it carries) plus a few
 * commits, refuse the rest with {@code overloaded} at once, and still commit at its full rate.
 */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class SlowStoreOverloadIT {

  private static final long REPLY_DELAY_MILLIS = 20;
  private static final int BATCH = 10;
  private static final long MAX_QUEUE_MILLIS = 250;
  private static final double OVERLOAD = 1.5;
  private static final long OFFER_MILLIS = 4_000;
  private static final int SENDERS = 4;
  private static final int RECIPIENTS = 20;

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
          return loneCommitMillis(senders.get(0), 8).compose(lone -> overload(vertx, senders, lone)
              .map(tally -> {
                verify(ctx, tally, lone);
                return (Void) null;
              }));
        });
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  /** How long one send takes to be accepted with nothing else going on: the median of {@code n} after a warm-up. */
  private static Future<Long> loneCommitMillis(WsClient client, int n) {
    List<Long> took = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n + 3; i++) {
      int k = i;
      chain = chain.compose(v -> {
        long start = System.nanoTime();
        return client.sendMessage("lone-" + k, "r0", "warm").compose(x -> client.expect("accepted")).map(accepted -> {
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

  /** Offers {@link #OVERLOAD} times the store's rate for {@link #OFFER_MILLIS}, spread over the senders. */
  private static Future<Tally> overload(Vertx vertx, List<WsClient> senders, long loneMillis) {
    Tally tally = new Tally();
    senders.forEach(s -> s.socket().textMessageHandler(tally::onFrame));
    double perMilli = OVERLOAD * BATCH / loneMillis;
    long start = System.nanoTime();
    long[] count = {0};
    vertx.setPeriodic(5, timer -> {
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000L;
      long due = (long) (Math.min(elapsedMillis, OFFER_MILLIS) * perMilli);
      for (; count[0] < due; count[0]++) {
        long n = count[0];
        String id = "o-" + n;
        tally.sentAt.put(id, System.nanoTime());
        senders.get((int) (n % SENDERS)).sendMessage(id, "r" + (n % RECIPIENTS), "load " + n);
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

  private static void verify(VertxTestContext ctx, Tally tally, long loneMillis) {
    List<Long> latencies = new ArrayList<>(tally.acceptedMillis);
    Collections.sort(latencies);
    long accepted = latencies.size();
    long max = latencies.isEmpty() ? 0 : latencies.get(latencies.size() - 1);
    // What the store carries, at least: a full commit takes about as long as a lone send's round trip.
    double capacityPerMilli = (double) BATCH / loneMillis;
    // A send accepted just before the oldest waiting one passes the limit waits behind what came in
    // meanwhile (the offer's share beyond what the store carries), then the commit running and its own.
    long bound = (long) (MAX_QUEUE_MILLIS * OVERLOAD) + 3 * loneMillis;
    String summary = String.format("lone commit %d ms, sent %d, accepted %d (p50 %d ms, max %d ms), refused %d; "
            + "bound %d ms, store carries >= %.0f/s", loneMillis, tally.sent, accepted,
        latencies.isEmpty() ? 0 : latencies.get(latencies.size() / 2), max, tally.refused.get(), bound,
        capacityPerMilli * 1000);
    System.out.println("SlowStoreOverloadIT: " + summary);
    ctx.verify(() -> {
      assertEquals(List.of(), tally.unexpected, "only accepted and overloaded answers: " + summary);
      assertEquals(tally.sent, accepted + tally.refused.get(), summary);
      assertTrue(tally.refused.get() > 0, "the excess is refused: " + summary);
      assertTrue(max <= bound, "every accepted send answered within the bound: " + summary);
      assertTrue(accepted >= 0.9 * capacityPerMilli * OFFER_MILLIS,
          "at least 90% of what the store carries goes through: " + summary);
    });
  }
}
