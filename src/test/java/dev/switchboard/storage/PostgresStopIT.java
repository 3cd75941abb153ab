package dev.switchboard.storage;

import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.AppendBatch;
import dev.switchboard.bus.AppendBatchResult;
import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.RecordCodec;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.TestServer;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node's stop with a PostgreSQL that stopped answering: the inbox, reached through a TCP proxy
 * that can freeze (it then forwards nothing either way, as a hung server or a silent network does).
 */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class PostgresStopIT {

  @TempDir
  Path dataDir;

  /** Forwards each connection to PostgreSQL until frozen. */
  private static Future<NetServer> proxy(Vertx vertx, int target, AtomicBoolean frozen) {
    return vertx.createNetServer().connectHandler(client -> {
      client.pause();
      vertx.createNetClient().connect(target, "127.0.0.1").onSuccess(server -> {
        forward(client, server, frozen);
        forward(server, client, frozen);
        client.resume();
      }).onFailure(e -> client.close());
    }).listen(0, "127.0.0.1");
  }

  private static void forward(NetSocket from, NetSocket to, AtomicBoolean frozen) {
    from.handler(bytes -> {
      if (!frozen.get()) {
        to.write(bytes);
      }
    });
    from.closeHandler(v -> to.close());
  }

  @Test
  @DisplayName("with PostgreSQL hung during a commit, the inbox stops within inbox.stopTimeoutSeconds and answers "
      + "every append still waiting for the store with a failure, never accepted")
  void stopIsBoundedWhenPostgresHangs(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) throws Exception {
    String uri = postgres.createDatabase();
    PgConnectOptions real = PgConnectOptions.fromUri(uri);
    AtomicBoolean frozen = new AtomicBoolean();
    NetServer server = proxy(vertx, real.getPort(), frozen).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    String viaProxy = "postgresql://postgres@127.0.0.1:" + server.actualPort() + "/" + real.getDatabase();
    JsonObject defaults = new JsonObject(Files.readString(Path.of("conf/config.json")));
    JsonObject config = defaults.mergeIn(TestServer.config(dataDir, new JsonObject().put("inbox", new JsonObject()
        .put("engine", "postgres").put("postgresUri", viaProxy).put("postgresPoolSize", 1)
        .put("stopTimeoutSeconds", 1))), true);
    RecordCodec.registerAll(vertx.eventBus());
    DeliveryOptions noTimeout = new DeliveryOptions().setSendTimeout(60_000);
    vertx.deployVerticle(new InboxVerticle(), new DeploymentOptions().setConfig(config))
        .compose(id -> {
          frozen.set(true);
          Future<?> inFlight = vertx.eventBus().request(Addresses.INBOX_APPEND, send("one"), noTimeout);
          Future<?> queued = vertx.eventBus().request(Addresses.INBOX_APPEND, send("two"), noTimeout);
          long stopping = System.nanoTime();
          return vertx.undeploy(id).map(v -> (System.nanoTime() - stopping) / 1_000_000)
              .compose(millis -> Future.join(inFlight, queued).transform(both -> {
                ctx.verify(() -> {
                  assertTrue(millis < 5_000, "the stop took " + millis + " ms");
                  assertInstanceOf(ReplyException.class, inFlight.cause(), "the commit in flight was answered " + inFlight);
                  assertInstanceOf(ReplyException.class, queued.cause(), "the queued append was answered " + queued);
                });
                return Future.succeededFuture();
              }));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  private static AppendBatch send(String body) {
    return new AppendBatch(List.of(new AppendRequest("alice", body, 1, null,
        List.of(new AppendRequest.Recipient("bob", "m-" + body)))));
  }
}
