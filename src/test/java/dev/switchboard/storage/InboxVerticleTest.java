package dev.switchboard.storage;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.AppendBatch;
import dev.switchboard.bus.AppendBatchResult;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.RecordCodec;
import dev.switchboard.support.TestServer;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inbox verticle's group commit on the real default store (the log), driven over the event bus as the
 * router drives it: {@code inbox.commitIntervalMillis} spaces commits apart, except for a full
 * batch and when stopping.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class InboxVerticleTest {

  @TempDir
  Path dataDir;

  private Future<String> deploy(Vertx vertx, JsonObject inbox) throws Exception {
    JsonObject defaults = new JsonObject(Files.readString(Path.of("conf/config.json")));
    JsonObject config = defaults.mergeIn(TestServer.config(dataDir, new JsonObject().put("inbox", inbox)), true);
    RecordCodec.registerAll(vertx.eventBus());
    return vertx.deployVerticle(new InboxVerticle(), new DeploymentOptions().setConfig(config));
  }

  private static AppendBatch send(String key, String... to) {
    List<AppendRequest.Recipient> recipients = java.util.Arrays.stream(to)
        .map(user -> new AppendRequest.Recipient(user, "m-" + key + "-" + user)).toList();
    return new AppendBatch(List.of(new AppendRequest("alice", "body " + key, 1, key, recipients)));
  }

  private static Future<AppendBatchResult> append(Vertx vertx, AppendBatch batch) {
    return vertx.eventBus().<AppendBatchResult>request(Addresses.INBOX_APPEND, batch).map(m -> m.body());
  }

  /**
   * Deploys the inbox and commits a first send to bob (seq 1); {@code sentFirst} gets the time it was
   * sent, which is before that commit started. Completes with the deployment id.
   */
  private Future<String> deployAndCommitFirst(Vertx vertx, JsonObject inbox, long[] sentFirst) throws Exception {
    return deploy(vertx, inbox).compose(id -> {
      sentFirst[0] = System.nanoTime();
      return append(vertx, send("a", "bob")).map(first -> {
        if (seq(first, 0) != 1) {
          throw new IllegalStateException("first send got seq " + seq(first, 0));
        }
        return id;
      });
    });
  }

  private static long seq(AppendBatchResult result, int recipient) {
    return result.results().get(0).results().get(recipient).seq();
  }

  @Test
  @DisplayName("a commit starts no sooner than commitIntervalMillis after the last one started, and sends queued meanwhile share it")
  void commitsAreSpaced(Vertx vertx, VertxTestContext ctx) throws Exception {
    long[] sentFirst = new long[1];
    deployAndCommitFirst(vertx, new JsonObject().put("commitIntervalMillis", 600), sentFirst)
        // The first commit started after the first send: these two cannot be committed before 600 ms after it.
        .compose(id -> Future.all(append(vertx, send("b", "bob")), append(vertx, send("c", "bob"))))
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          long millis = (System.nanoTime() - sentFirst[0]) / 1_000_000;
          assertTrue(millis >= 600, "second commit answered " + millis + " ms after the first send");
          assertEquals(2L, seq(both.resultAt(0), 0));
          assertEquals(3L, seq(both.resultAt(1), 0));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a batch that is already full (batchMaxMessages copies) is committed without waiting out the interval")
  void fullBatchDoesNotWait(Vertx vertx, VertxTestContext ctx) throws Exception {
    long[] sentFirst = new long[1];
    deployAndCommitFirst(vertx, new JsonObject().put("commitIntervalMillis", 1_000).put("batchMaxMessages", 2), sentFirst)
        .compose(id -> append(vertx, send("b", "bob", "carol")))
        .onComplete(ctx.succeeding(full -> ctx.verify(() -> {
          long millis = (System.nanoTime() - sentFirst[0]) / 1_000_000;
          assertTrue(millis < 1_000, "a full batch waited: answered " + millis + " ms after the first send");
          assertEquals(2L, seq(full, 0));
          assertEquals(1L, seq(full, 1));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("stopping commits what is queued at once instead of waiting out the interval")
  void stopCommitsAtOnce(Vertx vertx, VertxTestContext ctx) throws Exception {
    long[] sentFirst = new long[1];
    deployAndCommitFirst(vertx, new JsonObject().put("commitIntervalMillis", 1_000), sentFirst)
        .compose(id -> {
          Future<AppendBatchResult> queued = append(vertx, send("b", "bob"));
          // The send is on its way to the inbox's queue before the undeploy reaches the verticle.
          return vertx.undeploy(id).compose(x -> queued);
        })
        .onComplete(ctx.succeeding(queued -> ctx.verify(() -> {
          long millis = (System.nanoTime() - sentFirst[0]) / 1_000_000;
          assertTrue(millis < 1_000, "the queued send waited for the interval: " + millis + " ms");
          assertEquals(2L, seq(queued, 0));
          ctx.completeNow();
        })));
  }
}
