package dev.switchboard.metrics;

import dev.switchboard.auth.ApiKeys;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.GatewayLoad;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.micrometer.MicrometerMetricsFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /metrics} scraped from a real server after real traffic: each Switchboard counter moves
 * by what the clients did, Vert.x's own meters are there, and no label holds a user or message id.
 * Also the readiness probe, and who may scrape.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class MetricsIT {

  @TempDir
  Path dataDir;

  /** A Vert.x built as the launcher builds it with {@code metrics.enabled}. */
  private Vertx metered;

  @BeforeEach
  void buildVertx() {
    metered = Vertx.builder().with(new VertxOptions().setMetricsOptions(SwitchboardMetrics.vertxOptions()))
        .withMetrics(new MicrometerMetricsFactory()).build();
  }

  @AfterEach
  void closeVertx(VertxTestContext ctx) {
    metered.close().onComplete(ctx.succeedingThenComplete());
  }

  private static void report(Vertx vertx, boolean behind) {
    vertx.eventBus().publish(Addresses.ROUTER_LOAD, new GatewayLoad("gateway-test", behind, behind ? 5_000 : 0).toJson(),
        new DeliveryOptions().setLocalOnly(true));
  }

  @Test
  @DisplayName("after connects, sends, a duplicate, a refusal, pushes, a backlog read and a close, the scrape shows each by its count")
  void countsRealTraffic(VertxTestContext ctx) {
    Vertx vertx = metered;
    JsonObject pushToBob = new JsonObject().put("to", "bob").put("body", "pushed").put("from", "shop");
    JsonObject pushToDave = new JsonObject().put("to", "dave").put("body", "waiting").put("from", "shop");
    TestServer.start(vertx, dataDir).compose(server -> {
      Http http = new Http(vertx, server.pushPort());
      return server.online("bob", "phone").compose(bob -> server.online("alice", "laptop").compose(alice ->
          server.text("carol").compose(carol ->
          alice.sendMessage("s1", "bob", "hello")
              .compose(v -> alice.expect("accepted"))
              .compose(v -> bob.expect("message"))
              .compose(v -> alice.sendMessage("s1", "bob", "hello"))
              .compose(v -> alice.expect("accepted"))
              .compose(duplicate -> {
                ctx.verify(() -> assertTrue(duplicate.getBoolean("duplicate")));
                report(vertx, true);
                return alice.sendMessage("s2", "bob", "refused");
              })
              .compose(v -> alice.expect("error"))
              .compose(error -> {
                ctx.verify(() -> assertEquals("overloaded", error.getString("code")));
                return http.get("/health/ready");
              })
              .compose(notReady -> {
                ctx.verify(() -> assertEquals(503, notReady.status(), notReady.body().toString()));
                report(vertx, false);
                return http.postJson("/api/v1/messages", pushToBob);
              })
              .compose(pushed -> {
                ctx.verify(() -> assertEquals(202, pushed.status()));
                return bob.expect("message");
              })
              .compose(v -> http.postJson("/api/v1/messages", pushToDave))
              .compose(v -> server.json("dave", "tablet"))
              .compose(dave -> dave.expect("message"))
              .compose(v -> {
                System.gc(); // a gauge whose supplier was only weakly held would now read NaN
                return alice.close();
              })
              .compose(v -> scrapeUntil(http, m -> m.sum("switchboard_disconnects_total{code=\"1000\"}") == 1))
              .compose(metrics -> http.get("/health/ready").map(ready -> {
                ctx.verify(() -> {
                  assertEquals(200, ready.status(), ready.body().toString());
                  assertEquals(1, metrics.sum("switchboard_sessions_open{protocol=\"text\"}"));
                  assertEquals(2, metrics.sum("switchboard_sessions_open{protocol=\"v1\"}")); // bob and dave
                  assertEquals(3, metrics.sum("switchboard_connects_total{protocol=\"v1\"}"));
                  assertEquals(1, metrics.sum("switchboard_connects_total{protocol=\"text\"}"));
                  assertEquals(1, metrics.sum("switchboard_messages_accepted_total"));
                  assertEquals(1, metrics.sum("switchboard_messages_duplicates_total"));
                  assertEquals(1, metrics.sum("switchboard_messages_refused_total{code=\"overloaded\"}"));
                  assertEquals(1, metrics.sum("switchboard_messages_refused_total"));
                  assertEquals(2, metrics.sum("switchboard_messages_delivered_total{path=\"live\"}"));
                  assertEquals(1, metrics.sum("switchboard_messages_delivered_total{path=\"backlog\"}"));
                  assertEquals(2, metrics.sum("switchboard_pushes_total{outcome=\"accepted\"}"));
                  assertEquals(2, metrics.sum("switchboard_pushes_total"));
                  // hello, its duplicate (answered by the store), and the two pushes: each committed
                  assertTrue(metrics.sum("switchboard_store_commit_seconds_count") >= 1);
                  assertEquals(4, metrics.sum("switchboard_store_batch_copies_sum"));
                  assertTrue(metrics.sum("switchboard_store_read_seconds_count") >= 3);
                  assertEquals(0, metrics.sum("switchboard_store_errors_total"));
                  // each commit wrote its record and synced it (inbox.synchronous FULL)
                  assertTrue(metrics.sum("switchboard_store_written_bytes_total") > 4 * "hello".length());
                  assertTrue(metrics.sum("switchboard_store_syncs_total") >= metrics.sum("switchboard_store_commit_seconds_count"));
                  assertEquals(0, metrics.sum("switchboard_store_queued_copies"));
                  assertEquals(0, metrics.sum("switchboard_gateways_behind"));
                  assertEquals(1, metrics.sum("switchboard_cluster_members"));
                  assertTrue(metrics.sum("switchboard_directory_seconds_count{op=\"join\"}") >= 4);
                  assertTrue(metrics.text.contains("switchboard_gateway_loop_lag_milliseconds{gateway=\"gateway-"));
                  assertFalse(metrics.text.contains("NaN"), "a gauge lost what it reads");
                  assertEquals(Set.of(), undocumented(metrics.text), "Switchboard meters missing from docs/operations.md");
                  // Vert.x's own meters
                  assertTrue(metrics.sum("vertx_http_server_requests_total") >= 3, "HTTP server meters");
                  assertTrue(metrics.sum("vertx_http_server_active_ws_connections") >= 3, "WebSocket meters");
                  assertTrue(metrics.sum("vertx_pool_completed_total{pool_type=\"worker\"}") >= 1, "worker pool meters");
                  assertFalse(metrics.text.contains("vertx_eventbus_"), "event-bus meters cost a lookup per message: off");
                  assertTrue(metrics.text.contains("jvm_memory_used_bytes"), "JVM meters");
                  for (String id : new String[] {"alice", "bob", "carol", "dave", "s1", "s2"}) {
                    assertFalse(metrics.text.contains("\"" + id + "\""), "a label holds " + id);
                  }
                });
                return carol;
              })))));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("in jwt mode /metrics needs an API key (401 without), the health probes need none")
  void metricsNeedAKeyInJwtMode(VertxTestContext ctx) {
    JsonObject jwt = new JsonObject().put("auth", new JsonObject().put("mode", "jwt")
        .put("jwtKey", "test-secret-of-at-least-32-bytes-long!")
        .put("apiKeys", new JsonArray().add(new JsonObject().put("name", "prometheus").put("sha256", ApiKeys.sha256("scrape-key")))));
    TestServer.start(metered, dataDir, jwt).compose(server -> {
      Http http = new Http(metered, server.pushPort());
      return http.get("/metrics").compose(refused -> {
        ctx.verify(() -> assertEquals(401, refused.status()));
        return http.request(HttpMethod.GET, "/metrics", Map.of("Authorization", "Bearer scrape-key"), null);
      }).compose(scraped -> {
        ctx.verify(() -> {
          assertEquals(200, scraped.status());
          assertTrue(scraped.headers().get("Content-Type").startsWith("text/plain"));
          assertTrue(scraped.body().toString().contains("switchboard_sessions_open"));
        });
        return Future.all(http.get("/health/live"), http.get("/health/ready"));
      }).map(probes -> {
        ctx.verify(() -> {
          assertEquals(200, probes.<Http.Response>resultAt(0).status());
          assertEquals(200, probes.<Http.Response>resultAt(1).status(), probes.<Http.Response>resultAt(1).body().toString());
        });
        return probes;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("the admin lookup answers an admin key with sessions by node, inbox head and device cursors; other keys get 403")
  void adminLookup(VertxTestContext ctx) {
    JsonObject jwt = new JsonObject().put("auth", new JsonObject().put("mode", "jwt")
        .put("jwtKey", "test-secret-of-at-least-32-bytes-long!")
        .put("apiKeys", new JsonArray()
            .add(new JsonObject().put("name", "shop").put("sha256", ApiKeys.sha256("shop-key")))
            .add(new JsonObject().put("name", "ops").put("sha256", ApiKeys.sha256("ops-key")).put("admin", true))));
    TestServer.start(metered, dataDir, jwt).compose(server -> {
      Http http = new Http(metered, server.pushPort());
      Map<String, String> shop = Map.of("Authorization", "Bearer shop-key", "Content-Type", "application/json");
      Map<String, String> ops = Map.of("Authorization", "Bearer ops-key");
      JsonObject push = new JsonObject().put("to", "bob").put("body", "hi");
      return http.request(HttpMethod.POST, "/api/v1/messages", shop, push.toBuffer())
          .compose(v -> http.request(HttpMethod.POST, "/api/v1/messages", shop, push.toBuffer()))
          .compose(v -> http.request(HttpMethod.GET, "/api/v1/admin/users/bob", Map.of("Authorization", "Bearer shop-key"), null))
          .compose(forbidden -> {
            ctx.verify(() -> assertEquals(403, forbidden.status()));
            return http.request(HttpMethod.GET, "/api/v1/admin/users/bob?devices=phone,laptop", ops, null);
          })
          .map(lookup -> {
            ctx.verify(() -> {
              assertEquals(200, lookup.status(), lookup.body().toString());
              JsonObject body = lookup.json();
              assertEquals("bob", body.getString("user"));
              assertEquals(0, body.getInteger("sessions"));
              assertEquals(2L, body.getLong("head"));
              assertEquals(new JsonArray().add(new JsonObject().put("device", "phone").put("cursor", 0L))
                  .add(new JsonObject().put("device", "laptop").put("cursor", 0L)), body.getJsonArray("devices"));
            });
            return lookup;
          });
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("with metrics off (Vert.x built without them) /metrics answers 404 and the server runs as before")
  void metricsOff(Vertx plain, VertxTestContext ctx) {
    TestServer.start(plain, dataDir).compose(server -> new Http(plain, server.pushPort()).get("/metrics"))
        .onComplete(ctx.succeeding(response -> ctx.verify(() -> {
          assertEquals(404, response.status());
          ctx.completeNow();
        })));
  }

  /** The Switchboard meter families of a scrape that docs/operations.md does not name (as {@code `name`}). */
  private static Set<String> undocumented(String scrape) {
    String doc;
    try {
      doc = Files.readString(Path.of("docs/operations.md"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Set<String> missing = new TreeSet<>();
    Matcher family = Pattern.compile("^# TYPE (switchboard_\\w+) ", Pattern.MULTILINE).matcher(scrape);
    while (family.find()) {
      if (!doc.contains("`" + family.group(1) + "`")) {
        missing.add(family.group(1));
      }
    }
    return missing;
  }

  /** Scrapes until {@code done} holds: the server counts a close after the client has seen it. */
  @Test
  @DisplayName("a room message to five online members costs one user directory lookup for them all")
  void oneDirectoryLookupPerRoomMessage(VertxTestContext ctx) {
    Vertx vertx = metered;
    List<String> members = List.of("m1", "m2", "m3", "m4", "m5");
    String lookups = "switchboard_directory_seconds_count{op=\"lookup\"}";
    TestServer.start(vertx, dataDir).compose(server -> {
      Http http = new Http(vertx, server.pushPort());
      return server.online("alice", "phone").compose(alice -> {
        List<WsClient> online = new ArrayList<>();
        Future<Void> chain = Future.succeededFuture();
        for (String member : members) {
          chain = chain.compose(v -> server.online(member, "phone")).map(client -> {
            online.add(client);
            return null;
          });
        }
        chain = chain.compose(v -> alice.send(new JsonObject().put("type", "createRoom").put("id", "c").put("room", "team")))
            .compose(v -> answer(alice, "c")).mapEmpty();
        for (String member : members) {
          chain = chain.compose(v -> alice.send(new JsonObject().put("type", "addMember").put("id", "a-" + member)
              .put("room", "team").put("user", member))).compose(v -> answer(alice, "a-" + member)).mapEmpty();
        }
        // Each change's answer comes after its events were routed: nothing of the set-up is looked up later.
        return chain.compose(v -> scrapeUntil(http, m -> true)).compose(before ->
            alice.send(new JsonObject().put("type", "send").put("id", "r1").put("room", "team").put("body", "hi all"))
                .compose(v -> answer(alice, "r1"))
                .compose(v -> Future.all(online.stream().map(client -> skipTo(client, "message")).toList()))
                .compose(v -> scrapeUntil(http, m -> true))
                .map(after -> {
                  ctx.verify(() -> assertEquals(1, after.sum(lookups) - before.sum(lookups)));
                  return null;
                }));
      });
    }).onComplete(ctx.succeedingThenComplete());
  }

  /** The frame answering {@code id}, the room events and copies before it passed over. */
  private static Future<JsonObject> answer(WsClient client, String id) {
    return client.nextJson().compose(frame -> id.equals(frame.getString("id"))
        ? Future.succeededFuture(frame) : answer(client, id));
  }

  private static Future<JsonObject> skipTo(WsClient client, String type) {
    return client.nextJson().compose(frame -> type.equals(frame.getString("type"))
        ? Future.succeededFuture(frame) : skipTo(client, type));
  }

  private Future<Scrape> scrapeUntil(Http http, Predicate<Scrape> done) {
    return http.get("/metrics").compose(response -> {
      Scrape scrape = new Scrape(response.body().toString());
      if (done.test(scrape)) {
        return Future.succeededFuture(scrape);
      }
      Promise<Void> later = Promise.promise();
      metered.setTimer(20, id -> later.complete());
      return later.future().compose(v -> scrapeUntil(http, done));
    });
  }

  /** Prometheus text: sums the samples whose name and labels start as given. */
  record Scrape(String text) {

    double sum(String series) {
      String name = series.contains("{") ? series.substring(0, series.indexOf('{')) : series;
      String labels = series.contains("{") ? series.substring(series.indexOf('{') + 1, series.length() - 1) : "";
      double total = 0;
      for (String line : text.split("\n")) {
        if (line.startsWith("#") || line.isBlank()) {
          continue;
        }
        int space = line.lastIndexOf(' ');
        String key = line.substring(0, space);
        String sampleName = key.contains("{") ? key.substring(0, key.indexOf('{')) : key;
        if (sampleName.equals(name) && key.contains(labels)) {
          total += Double.parseDouble(line.substring(space + 1));
        }
      }
      return total;
    }
  }
}
