import dev.switchboard.bus.AppendRequest;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.storage.InboxStore;
import dev.switchboard.storage.LogInboxStore;
import dev.switchboard.storage.SqliteInboxStore;
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
 * Fills an embedded inbox store (engine log or sqlite, from the server config's inbox section) with
 * N messages for U users, fast: the store's own API in this process, one large group commit after
 * another, each append to one random user "f0".."f(U-1)" with a body of B bytes and one in ten with
 * an idempotency key, all sent now. The server is then started on the same data directory. Runs with
 * whatever server jar is on the classpath, so an older build fills its own format (run it outside
 * the repository, so that the jar's own {@code conf/config.json} holds the defaults):
 *
 * <pre>java -cp switchboard-fat.jar bench/store/StoreFill.java CONFIG_JSON MESSAGES [USERS BATCH BODY_BYTES]</pre>
 *
 * Prints one line: {@code filled N messages for U users in S s = R msg/s}.
 */
public class StoreFill {

  public static void main(String[] args) throws Exception {
    // The jar's defaults under the given file and SWITCHBOARD_* variables, as the server will read them.
    JsonObject config = ConfigLoader.loadNow(new JsonObject(Files.readString(Path.of(args[0]))), System.getenv());
    long messages = Long.parseLong(args[1]);
    int users = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
    int batch = args.length > 3 ? Integer.parseInt(args[3]) : 5_000;
    int bodyBytes = args.length > 4 ? Integer.parseInt(args[4]) : 100;
    config.getJsonObject("inbox").put("maxMessagesPerUser", 100_000_000);
    InboxConfig inbox = InboxConfig.fromJson(config);
    Vertx vertx = Vertx.vertx();
    InboxStore store = switch (inbox.engine()) {
      case LOG -> new LogInboxStore(vertx, inbox);
      case SQLITE -> new SqliteInboxStore(vertx, inbox);
      default -> throw new IllegalArgumentException("StoreFill fills an embedded engine (log or sqlite), not " + inbox.engine());
    };
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
      long now = System.currentTimeMillis();
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
    System.out.printf("filled %d messages for %d users in %.1f s = %.0f msg/s%n", written, users, secs, written / secs);
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
