package dev.switchboard.storage;

import dev.switchboard.SwitchboardVerticle;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node configured for the SQLite engine, or started on the log beside an SQLite file, refuses to
 * start and says where to read how to keep that file's messages, rather than starting without them.
 */
@ExtendWith(VertxExtension.class)
class MovingFromSqliteIT {

  private static final String SECTION = "docs/storage.md, \"Moving from SQLite\"";

  @TempDir
  Path dataDir;

  @Test
  @DisplayName("inbox.engine=sqlite in the configuration fails the start, naming the key, the engines allowed and the docs")
  void engineInTheFile(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir, new JsonObject().put("inbox", new JsonObject().put("engine", "sqlite")))
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertEngineRefused(e.getMessage());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("SWITCHBOARD_INBOX_ENGINE=sqlite fails the start the same way")
  void engineInTheEnvironment(Vertx vertx, VertxTestContext ctx) {
    // What the launcher does: every layer loaded before Vert.x starts, then handed to the verticle.
    JsonObject loaded = ConfigLoader.loadNow(TestServer.config(dataDir, new JsonObject()),
        Map.of("SWITCHBOARD_INBOX_ENGINE", "sqlite"));
    vertx.deployVerticle(new SwitchboardVerticle(loaded))
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertEngineRefused(e.getMessage());
          ctx.completeNow();
        })));
  }

  private static void assertEngineRefused(String reason) {
    assertTrue(reason.contains("inbox.engine"), reason);
    assertTrue(reason.contains("log or postgres"), reason);
    assertTrue(reason.contains(SECTION), reason);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"inbox.db", "inbox.db-wal"})
  @DisplayName("on the log engine, an SQLite file in inbox.dataDir fails the start, naming the file; moved aside, the node starts")
  void sqliteFileBesideTheLog(String name, Vertx vertx, VertxTestContext ctx) throws Exception {
    Path file = dataDir.resolve(name);
    Files.write(file, new byte[] {1, 2, 3});
    TestServer.start(vertx, dataDir)
        .transform(started -> {
          if (started.succeeded()) {
            return Future.failedFuture("the log engine started beside " + file);
          }
          String reason = started.cause().getMessage();
          ctx.verify(() -> {
            assertTrue(reason.contains(file.toString()), reason);
            assertTrue(reason.contains("does not read"), reason);
            assertTrue(reason.contains(SECTION), reason);
          });
          return vertx.fileSystem().move(file.toString(), dataDir.resolve("moved-aside").toString())
              .compose(moved -> TestServer.start(vertx, dataDir));
        })
        .onComplete(ctx.succeeding(server -> ctx.verify(() -> {
          assertFalse(Files.exists(file));
          ctx.completeNow();
        })));
  }
}
