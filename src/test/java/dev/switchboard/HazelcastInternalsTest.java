package dev.switchboard;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hook of {@link HazelcastInternals} against the Hazelcast of the build: a failure means an
 * upgrade moved the default async executor, and multi-key lookups may start a thread each again.
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
}
