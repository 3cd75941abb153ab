package dev.switchboard.metrics;

import dev.switchboard.support.Http;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A store that still answers reads but refuses writes (a PostgreSQL trigger raising on every new
 * message) makes the node not ready, while {@code /health} (reads) and {@code /health/live} stay
 * up; once writes succeed again, so does readiness.
 */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class ReadinessIT {

  @TempDir
  Path dataDir;

  private static final String REFUSE = "CREATE FUNCTION refuse_writes() RETURNS trigger AS $$ BEGIN "
      + "RAISE EXCEPTION 'writes refused (test)'; END $$ LANGUAGE plpgsql";
  private static final String TRIGGER = "CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_writes()";
  private static final String ALLOW = "DROP TRIGGER refuse ON messages";

  @Test
  @DisplayName("a node whose store refuses writes is not ready (503, check 'store'), though /health and /health/live answer 200")
  void refusedWritesMeanNotReady(Vertx vertx, VertxTestContext ctx, TestPostgres postgres) {
    String uri = postgres.createDatabase();
    JsonObject onPostgres = new JsonObject().put("inbox", new JsonObject().put("engine", "postgres").put("postgresUri", uri));
    JsonObject push = new JsonObject().put("to", "bob").put("body", "hello").put("from", "shop");
    TestServer.start(vertx, dataDir, onPostgres).compose(server -> {
      Http http = new Http(vertx, server.pushPort());
      return http.postJson("/api/v1/messages", push)
          .compose(stored -> {
            ctx.verify(() -> assertEquals(202, stored.status()));
            return http.get("/health/ready");
          })
          .compose(ready -> {
            ctx.verify(() -> assertEquals(200, ready.status(), ready.body().toString()));
            return sql(vertx, uri, REFUSE).compose(v -> sql(vertx, uri, TRIGGER));
          })
          .compose(v -> http.postJson("/api/v1/messages", push))
          .compose(refused -> {
            ctx.verify(() -> assertEquals(503, refused.status(), refused.body().toString()));
            return Future.all(http.get("/health/ready"), http.get("/health"), http.get("/health/live"));
          })
          .compose(probes -> {
            ctx.verify(() -> {
              Http.Response ready = probes.resultAt(0);
              assertEquals(503, ready.status());
              assertTrue(ready.body().toString().contains("the last inbox commit failed"), ready.body().toString());
              assertEquals(200, probes.<Http.Response>resultAt(1).status());
              assertEquals(200, probes.<Http.Response>resultAt(2).status());
            });
            return sql(vertx, uri, ALLOW);
          })
          .compose(v -> http.postJson("/api/v1/messages", push))
          .compose(stored -> {
            ctx.verify(() -> assertEquals(202, stored.status()));
            return http.get("/health/ready");
          })
          .map(ready -> {
            ctx.verify(() -> assertEquals(200, ready.status(), ready.body().toString()));
            return ready;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  private static Future<Void> sql(Vertx vertx, String uri, String statement) {
    return PgConnection.connect(vertx, PgConnectOptions.fromUri(uri))
        .compose(conn -> conn.query(statement).execute().eventually(conn::close))
        .mapEmpty();
  }
}
