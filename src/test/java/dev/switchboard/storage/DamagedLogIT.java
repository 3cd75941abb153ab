package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.micrometer.MicrometerMetricsFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node started on a log whose sealed segment was damaged at rest: the start trusts the index, the
 * background check finds the damage, and the node goes on serving and accepting, with the damage in
 * the metrics and in {@code /health} (not in {@code /health/ready}); a session whose backlog holds
 * the damaged message is closed with 1011 rather than given damaged bytes.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class DamagedLogIT {

  @TempDir
  Path dataDir;

  /** A Vert.x built as the launcher builds it with {@code metrics.enabled}. */
  private Vertx metered;

  @BeforeEach
  void buildVertx() {
    metered = Vertx.builder().with(new VertxOptions().setMetricsOptions(SwitchboardMetrics.vertxOptions()))
        .withMetrics(new MicrometerMetricsFactory()).build();
  }

  @AfterEach
  void closeVertx(VertxTestContext ctx) {
    metered.close().onComplete(ctx.succeedingThenComplete());
  }

  /** Writes 40 messages to bob over many tiny segments with the engine itself, and closes it. */
  private void fillLog() throws Exception {
    LogInboxStore store = new LogInboxStore(metered, LogTestSupport.config(dataDir, 600, false), SystemLogFiles.INSTANCE);
    Promise<Void> filled = Promise.promise();
    metered.getOrCreateContext().runOnContext(v -> {
      Future<?> chain = store.open();
      for (int i = 0; i < 40; i++) {
        long now = System.currentTimeMillis();
        AppendRequest send = LogTestSupport.send("bob", "hello-" + i + "-" + "x".repeat(i % 4 * 10), now);
        chain = chain.compose(x -> store.append(List.of(send), List.of(), now));
      }
      chain.compose(x -> store.close()).onComplete(filled);
    });
    filled.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Flips a byte of the body {@code body} in the sealed segment holding it; returns that segment. */
  private Path damageBody(String body) throws Exception {
    List<Path> segments = LogTestSupport.segments(dataDir);
    byte[] needle = body.getBytes(StandardCharsets.UTF_8);
    for (Path segment : segments.subList(0, segments.size() - 1)) {
      byte[] bytes = Files.readAllBytes(segment);
      for (int i = 0; i + needle.length <= bytes.length; i++) {
        if (java.util.Arrays.equals(bytes, i, i + needle.length, needle, 0, needle.length)) {
          LogTestSupport.flipByte(segment, i + 2);
          return segment;
        }
      }
    }
    throw new AssertionError(body + " is in no sealed segment: " + segments);
  }

  @Test
  @DisplayName("damage found after the start: metrics count it, /health names the file while /health/ready stays UP, pushes are accepted, and a backlog read through it closes the session with 1011")
  void damageFoundWhileRunning(VertxTestContext ctx) throws Exception {
    fillLog();
    Path damaged = damageBody("hello-5-");
    int sealed = LogTestSupport.segments(dataDir).size() - 1;
    JsonObject push = new JsonObject().put("to", "bob").put("body", "after the damage").put("from", "shop");
    TestServer.start(metered, dataDir).compose(server -> {
      Http http = new Http(metered, server.pushPort());
      return scrapeUntil(http, "switchboard_store_segments_unverified", n -> n == 0)
          .compose(text -> {
            ctx.verify(() -> {
              assertEquals(1, value(text, "switchboard_store_segments_corrupt"), text);
              assertEquals(sealed - 1, value(text, "switchboard_store_segments_verified"), text);
            });
            return Future.all(http.get("/health"), http.get("/health/ready"), http.postJson("/api/v1/messages", push));
          })
          .compose(answers -> {
            ctx.verify(() -> {
              Http.Response health = answers.resultAt(0);
              assertEquals(503, health.status(), health.body().toString());
              assertTrue(health.body().toString().contains("storeFiles")
                  && health.body().toString().contains(damaged.getFileName().toString()), health.body().toString());
              Http.Response ready = answers.resultAt(1);
              assertEquals(200, ready.status(), ready.body().toString());
              Http.Response accepted = answers.resultAt(2);
              assertEquals(202, accepted.status(), accepted.body().toString());
            });
            return server.json("bob", "phone");
          })
          .compose(bob -> bob.closed());
    }).onComplete(ctx.succeeding(code -> ctx.verify(() -> {
      assertEquals((short) 1011, code);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a flipped byte in the messages section of a sealed segment's index: the start still trusts it (it reads only the summary), a backlog read through the damaged page closes the session with 1011, and /health names the segment")
  void damagedIndexPage(VertxTestContext ctx) throws Exception {
    fillLog();
    Path segment = LogTestSupport.segments(dataDir).get(0);
    Path index = SegmentIndex.fileFor(segment);
    SegmentIndex.Header header = SegmentIndex.Header.of(java.nio.ByteBuffer.wrap(Files.readAllBytes(index)), new String[1]);
    LogTestSupport.flipByte(index, header.messagesAt() + 3);
    TestServer.start(metered, dataDir).compose(server -> {
      Http http = new Http(metered, server.pushPort());
      return server.json("bob", "phone")
          .compose(bob -> bob.closed())
          .compose(code -> {
            ctx.verify(() -> assertEquals((short) 1011, code));
            return http.get("/health");
          });
    }).onComplete(ctx.succeeding(health -> ctx.verify(() -> {
      assertEquals(503, health.status(), health.body().toString());
      assertTrue(health.body().toString().contains(segment.getFileName().toString()), health.body().toString());
      assertTrue(Files.exists(SegmentDamage.markerFor(segment)), "marked for the next start");
      ctx.completeNow();
    })));
  }

  /** Scrapes {@code /metrics} until {@code series} (a gauge this node registers) satisfies {@code done}. */
  private Future<String> scrapeUntil(Http http, String series, java.util.function.DoublePredicate done) {
    return http.get("/metrics").compose(response -> {
      String text = response.body().toString();
      double v = value(text, series);
      if (!Double.isNaN(v) && done.test(v)) {
        return Future.succeededFuture(text);
      }
      Promise<Void> later = Promise.promise();
      metered.setTimer(20, id -> later.complete());
      return later.future().compose(x -> scrapeUntil(http, series, done));
    });
  }

  /** The value of a sample without labels in Prometheus text, or NaN if absent. */
  private static double value(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1));
      }
    }
    return Double.NaN;
  }
}
