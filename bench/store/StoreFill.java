import dev.switchboard.bus.AppendRequest;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.storage.InboxStore;
import dev.switchboard.storage.LogInboxStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Fills a log inbox store (at the data directory of the server config's inbox section) with
 * N messages for U users, fast: the store's own API in this process, one large group commit after
 * another, each append to one random user "f0".."f(U-1)" with a body of B bytes and one in ten with
 * an idempotency key, all sent now. With {@code --keys-aged} the fill's clock runs
 * {@code inbox.idempotencyWindowSeconds} plus a minute behind, so every key (and message) it writes is
 * already outside the window when the server starts: the heap after start is then what the stored
 * messages cost, without a window of the fill's keys. The server is then started on the same data
 * directory. Runs with whatever server jar is on the classpath, so an older build fills its own format
 * (run it outside the repository, so that the jar's own {@code conf/config.json} holds the defaults):
 *
 * <pre>java -cp switchboard-fat.jar bench/store/StoreFill.java CONFIG_JSON MESSAGES [USERS BATCH BODY_BYTES] [--keys-aged]</pre>
 *
 * Prints one line: {@code filled N messages for U users in S s = R msg/s}.
 */
public class StoreFill {

  public static void main(String[] args) throws Exception {
    // The jar's defaults under the given file and SWITCHBOARD_* variables, as the server will read them.
    List<String> positional = new ArrayList<>(List.of(args));
    boolean keysAged = positional.remove("--keys-aged");
    JsonObject config = ConfigLoader.loadNow(new JsonObject(Files.readString(Path.of(positional.get(0)))), System.getenv());
    long messages = Long.parseLong(positional.get(1));
    int users = positional.size() > 2 ? Integer.parseInt(positional.get(2)) : 100_000;
    int batch = positional.size() > 3 ? Integer.parseInt(positional.get(3)) : 5_000;
    int bodyBytes = positional.size() > 4 ? Integer.parseInt(positional.get(4)) : 100;
    config.getJsonObject("inbox").put("maxMessagesPerUser", 100_000_000);
    InboxConfig inbox = InboxConfig.fromJson(config);
    // Aged: every key is past the window once the fill ends, however soon the server starts after it.
    long behind = keysAged ? inbox.idempotencyWindowMillis() + 60_000 : 0;
    if (behind >= inbox.retentionMillis()) {
      throw new IllegalArgumentException("--keys-aged writes messages " + behind / 1000 + " s old, past inbox.retentionSeconds");
    }
    Vertx vertx = Vertx.vertx();
    if (inbox.engine() != InboxConfig.Engine.LOG) {
      throw new IllegalArgumentException("StoreFill fills the log engine, not " + inbox.engine());
    }
    InboxStore store = new LogInboxStore(vertx, inbox);
    // Every call from one context, as the inbox verticle makes them: the store's state is confined to it.
    Context context = vertx.getOrCreateContext();
    await(context, store::open);
    Random random = new Random(11);
    String padding = "x".repeat(Math.max(0, bodyBytes - 20));
    long t0 = System.nanoTime();
    long written = 0;
    long nextReport = messages / 10;
    while (written < messages) {
      int n = (int) Math.min(batch, messages - written);
      long now = System.currentTimeMillis() - behind;
      List<AppendRequest> appends = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String id = Long.toString(written + i, 36);
        appends.add(new AppendRequest("s" + random.nextInt(1000), id + ":" + padding, now,
            (written + i) % 10 == 0 ? "k" + id : null,
            List.of(new AppendRequest.Recipient("f" + random.nextInt(users), "m" + id))));
      }
      await(context, () -> store.append(appends, List.of(), now));
      written += n;
      if (written >= nextReport && written < messages) {
        System.err.printf("[fill] %d of %d messages, %.0f s%n", written, messages, (System.nanoTime() - t0) / 1e9);
        nextReport += messages / 10;
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    await(context, store::close);
    vertx.close().toCompletionStage().toCompletableFuture().get();
    System.out.printf("filled %d messages for %d users in %.1f s = %.0f msg/s%s%n", written, users, secs, written / secs,
        keysAged ? ", keys aged " + behind / 1000 + " s" : "");
  }

  private static <T> T await(Context context, Supplier<Future<T>> call) throws Exception {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(v -> call.get().onComplete(ar -> {
      if (ar.succeeded()) {
        done.complete(ar.result());
      } else {
        done.completeExceptionally(ar.cause());
      }
    }));
    return done.get();
  }
}
