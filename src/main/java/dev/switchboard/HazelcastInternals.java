package dev.switchboard;

import com.hazelcast.internal.util.ConcurrencyUtil;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The only place Switchboard uses a Hazelcast class that is not public API. Hazelcast completes a
 * multi-key call (the user directory's lookup of many users) on its default async executor, which
 * is the common fork-join pool only when that pool has more than one thread; on one or two cores it
 * starts a new thread for every call. This gives it a small pool of its own there instead.
 * {@code HazelcastInternalsTest} checks the hook against the Hazelcast of the build.
 */
public final class HazelcastInternals {

  private static final int THREADS = 2;
  private static ExecutorService asyncPool;

  private HazelcastInternals() {
  }

  /**
   * Gives Hazelcast's async completions a pool of {@value #THREADS} daemon threads, unless the common
   * pool already serves them. Once per JVM, before the first member starts; later calls do nothing.
   */
  public static synchronized void useAsyncPool() {
    if (asyncPool != null || ForkJoinPool.getCommonPoolParallelism() > 1) {
      return;
    }
    AtomicInteger count = new AtomicInteger();
    asyncPool = Executors.newFixedThreadPool(THREADS, task -> {
      Thread thread = new Thread(task, "switchboard-hz-async-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    ConcurrencyUtil.setDefaultAsyncExecutor(asyncPool);
  }

  /** The executor Hazelcast completes async calls on. */
  static Executor asyncExecutor() {
    return ConcurrencyUtil.getDefaultAsyncExecutor();
  }
}
