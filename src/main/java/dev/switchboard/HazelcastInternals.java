package dev.switchboard;

import com.hazelcast.cluster.Member;
import com.hazelcast.internal.util.ConcurrencyUtil;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The only place Switchboard uses a Hazelcast class, or a detail of Vert.x's Hazelcast cluster
 * manager, that is not public API. Hazelcast completes a multi-key call (the user directory's lookup
 * of many users) on its default async executor, which is the common fork-join pool only when that
 * pool has more than one thread; on one or two cores it starts a new thread for every call. This
 * gives it a small pool of its own there instead. And the cluster manager names each member by a
 * Vert.x node id of its own, kept as a member attribute: the directory replica reads it to know
 * which node a member that joins or leaves is. {@code HazelcastInternalsTest} checks both hooks
 * against the Hazelcast and the cluster manager of the build.
 */
public final class HazelcastInternals {

  private static final int THREADS = 2;
  /** The member attribute in which Vert.x's Hazelcast cluster manager keeps the member's node id. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";
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

  /** The Vert.x node id of a cluster member ({@code ClusterManager.getNodeId()} on it); null for none. */
  public static String nodeId(Member member) {
    return member.getAttribute(VERTX_NODE_ID);
  }
}
