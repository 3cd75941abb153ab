package dev.switchboard.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The generator's one Vert.x instance with one event loop. All connections and all accounting live
 * on that loop; the main thread only orchestrates (waits, reads results through {@link #call}).
 */
final class Loop implements AutoCloseable {

  /** Exceptions no handler caught on any loop of this process: a bug in the tool, which fails the run. */
  static final AtomicLong UNHANDLED = new AtomicLong();

  final Vertx vertx;
  final Context ctx;
  /**
   * Every WebSocket client made here, for as long as the loop lives: Vert.x 5 closes a client whose
   * wrapper has been collected, with every socket it opened, and the runs keep only the sockets.
   */
  private final List<WebSocketClient> clients = new ArrayList<>();

  Loop() {
    vertx = Vertx.vertx(new VertxOptions()
        .setPreferNativeTransport(!Boolean.getBoolean("bench.nio"))
        .setEventLoopPoolSize(1)
        .setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1)
        .setBlockedThreadCheckInterval(10_000)
        .setMaxEventLoopExecuteTime(5)
        .setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS));
    vertx.exceptionHandler(t -> {
      if (UNHANDLED.getAndIncrement() < 5) {
        System.err.println("[bench] unhandled exception in the generator: " + t);
        t.printStackTrace();
      }
    });
    ctx = vertx.getOrCreateContext();
    System.err.println("[bench] generator: one Vert.x event loop, " + (vertx.isNativeTransportEnabled() ? "native epoll"
        : "NIO") + " transport, max heap " + Runtime.getRuntime().maxMemory() / 1048576 + " MiB");
  }

  /** Runs {@code s} on the loop and waits for its value. */
  <T> T call(Supplier<T> s) {
    CompletableFuture<T> f = new CompletableFuture<>();
    ctx.runOnContext(v -> {
      try {
        f.complete(s.get());
      } catch (Throwable t) {
        f.completeExceptionally(t);
      }
    });
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("event loop call failed: " + e, e);
    }
  }

  void run(Runnable r) {
    call(() -> {
      r.run();
      return null;
    });
  }

  /** Runs an async step started on the loop and waits (bounded) for it. */
  <T> T await(Supplier<Future<T>> start, long timeoutMs) {
    CompletableFuture<T> f = new CompletableFuture<>();
    ctx.runOnContext(v -> {
      try {
        start.get().onComplete(ar -> {
          if (ar.succeeded()) {
            f.complete(ar.result());
          } else {
            f.completeExceptionally(ar.cause());
          }
        });
      } catch (Throwable t) {
        f.completeExceptionally(t);
      }
    });
    try {
      return f.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("timed out after " + timeoutMs + " ms");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(String.valueOf(e.getCause().getMessage()), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  /**
   * {@link #await} for a step whose failures are counted where they happen (per connection), or
   * that is best effort: its failure or timeout is not raised.
   */
  <T> void awaitQuietly(Supplier<Future<T>> start, long timeoutMs) {
    try {
      await(start, timeoutMs);
    } catch (IllegalStateException e) {
      // counted by the step itself, or not needed
    }
  }

  /** Polls {@code condition} on the loop every 20 ms until it holds or {@code timeoutMs} passes. */
  boolean waitFor(BooleanSupplier condition, long timeoutMs) {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
    while (true) {
      if (call(condition::getAsBoolean)) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      sleep(20);
    }
  }

  /** Sleeps until the {@link Token#now} clock reads {@code tokenNanos}; returns at once when it has passed. */
  static void sleepUntil(long tokenNanos) {
    long ms = (tokenNanos - Token.now()) / 1_000_000L;
    if (ms > 0) {
      sleep(ms);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  /**
   * One WebSocket client per loopback source address (127.0.0.1, .2, ...): each source address has
   * its own ~28k ephemeral ports, so N addresses allow N times as many connections to one server port.
   */
  List<WebSocketClient> wsClients(int addresses, long connectTimeoutMs) {
    List<WebSocketClient> made = new ArrayList<>();
    for (int i = 0; i < Math.max(1, addresses); i++) {
      WebSocketClientOptions o = new WebSocketClientOptions()
          .setMaxConnections(1_000_000)
          .setMaxFrameSize(262_144)
          .setMaxMessageSize(1_048_576)
          .setConnectTimeout((int) connectTimeoutMs);
      o.setLocalAddress("127.0.0." + (i + 1));
      o.setReuseAddress(true);
      made.add(vertx.createWebSocketClient(o));
    }
    clients.addAll(made);
    return made;
  }

  /**
   * On the loop: starts {@code total} async operations with at most {@code window} in flight. The
   * future completes when all have finished (failures are the operations' own business).
   */
  static Future<Void> windowed(int total, int window, IntFunction<Future<?>> op) {
    Promise<Void> done = Promise.promise();
    if (total == 0) {
      done.complete();
      return done.future();
    }
    int[] st = new int[3]; // next, inflight, finished
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      while (st[1] < window && st[0] < total) {
        int i = st[0]++;
        st[1]++;
        Future<?> f;
        try {
          f = op.apply(i);
        } catch (RuntimeException e) {
          f = Future.failedFuture(e);
        }
        f.onComplete(ar -> {
          st[1]--;
          st[2]++;
          if (st[2] == total) {
            done.tryComplete();
          } else {
            pump[0].run();
          }
        });
      }
    };
    pump[0].run();
    return done.future();
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the process exits anyway
    }
  }
}
