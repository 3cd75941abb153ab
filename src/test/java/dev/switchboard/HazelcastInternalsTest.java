package dev.switchboard;

import com.hazelcast.cluster.Member;
import io.vertx.core.Vertx;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hooks of {@link HazelcastInternals} against the Hazelcast and cluster manager of the build: a
 * failure means an upgrade moved the default async executor (multi-key lookups may start a thread
 * each again) or the attribute that names a member's node (the directory replica would not know
 * which node left).
 */
class HazelcastInternalsTest {

  @Test
  @DisplayName("after useAsyncPool, Hazelcast's async completions run on at most two threads, or on the common pool")
  void asyncCompletionsReuseThreads() throws Exception {
    HazelcastInternals.useAsyncPool();
    Set<Thread> ran = ConcurrentHashMap.newKeySet();
    CountDownLatch done = new CountDownLatch(50);
    for (int i = 0; i < 50; i++) {
      HazelcastInternals.asyncExecutor().execute(() -> {
        ran.add(Thread.currentThread());
        done.countDown();
      });
    }
    assertTrue(done.await(10, TimeUnit.SECONDS), "Hazelcast's default async executor ran no task");
    int allowed = ForkJoinPool.getCommonPoolParallelism() > 1 ? ForkJoinPool.getCommonPoolParallelism() + 1 : 2;
    assertTrue(ran.size() <= allowed, "Hazelcast's default async executor ran 50 tasks on " + ran.size()
        + " threads: HazelcastInternals.useAsyncPool no longer reaches it in this Hazelcast version");
  }

  @Test
  @DisplayName("the node id read from a member is the one its Vert.x cluster manager gives itself")
  void memberNodeIds() throws Exception {
    HazelcastClusterManager manager = new HazelcastClusterManager(ClusterConfig.load()
        .setClusterName("internals-" + ThreadLocalRandom.current().nextInt(1_000_000)));
    Vertx vertx = Vertx.builder().withClusterManager(manager).buildClustered()
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    try {
      Member local = manager.getHazelcastInstance().getCluster().getLocalMember();
      assertEquals(manager.getNodeId(), HazelcastInternals.nodeId(local), "HazelcastInternals.nodeId no longer "
          + "reads the node id that this version of Vert.x's Hazelcast cluster manager gives a member");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
