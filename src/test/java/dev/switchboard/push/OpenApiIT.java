package dev.switchboard.push;

import dev.switchboard.auth.ApiKeys;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.GatewayLoad;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.micrometer.MicrometerMetricsFactory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/openapi.yaml against the running server: every documented response of every operation is
 * produced by a real request, answers with that status and the documented media type, and its
 * JSON body has the schema's required fields; a response the server gives here that the document
 * does not list fails too.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class OpenApiIT {

  @TempDir
  Path dataDir;
  @TempDir
  Path otherDataDir;

  /** One documented response produced by a request. */
  private record Case(String method, String path, int status, Supplier<Future<Http.Response>> request) {
    String key() {
      return method + " " + path + " " + status;
    }
  }

  private static final Map<String, String> SHOP = Map.of("Authorization", "Bearer shop-key");
  private static final Map<String, String> OPS = Map.of("Authorization", "Bearer ops-key");

  private static JsonObject jwtConfig() {
    return new JsonObject().put("limits", new JsonObject().put("maxRoomMembers", 3)).put("auth", new JsonObject().put("mode", "jwt")
        .put("jwtKey", "test-secret-of-at-least-32-bytes-long!")
        .put("apiKeys", new JsonArray()
            .add(new JsonObject().put("name", "shop").put("sha256", ApiKeys.sha256("shop-key")))
            .add(new JsonObject().put("name", "ops").put("sha256", ApiKeys.sha256("ops-key")).put("admin", true))));
  }

  private static Map<String, String> with(Map<String, String> base, String... pairs) {
    java.util.HashMap<String, String> headers = new java.util.HashMap<>(base);
    for (int i = 0; i < pairs.length; i += 2) {
      headers.put(pairs[i], pairs[i + 1]);
    }
    return headers;
  }

  @Test
  @DisplayName("every response in docs/openapi.yaml is what the server answers, with the documented body")
  void documentMatchesServer(Vertx plain, VertxTestContext ctx) throws IOException {
    Map<String, Object> spec = new Yaml().load(Files.readString(Path.of("docs/openapi.yaml")));
    Vertx metered = Vertx.builder().with(new VertxOptions().setMetricsOptions(SwitchboardMetrics.vertxOptions()))
        .withMetrics(new MicrometerMetricsFactory()).build();
    Future.all(TestServer.start(metered, dataDir, jwtConfig()), TestServer.start(plain, otherDataDir, jwtConfig()))
        .compose(started -> {
          TestServer server = started.resultAt(0);
          TestServer withoutMetrics = started.resultAt(1);
          Http http = new Http(metered, server.pushPort());
          Http noMetrics = new Http(plain, withoutMetrics.pushPort());
          List<Case> cases = cases(metered, http, noMetrics);
          Set<String> covered = new TreeSet<>();
          cases.forEach(c -> covered.add(c.key()));
          ctx.verify(() -> assertEquals(documented(spec), covered, "documented responses vs. the requests made here"));
          Future<Void> chain = Future.succeededFuture();
          for (Case c : cases) {
            chain = chain.compose(v -> c.request().get().map(response -> {
              ctx.verify(() -> check(spec, c, response));
              return null;
            }));
          }
          return chain;
        })
        .eventually(metered::close)
        .onComplete(ctx.succeedingThenComplete());
  }

  private List<Case> cases(Vertx vertx, Http http, Http noMetrics) {
    String push = "/api/v1/messages";
    Buffer toBob = new JsonObject().put("to", "bob").put("body", "hi").toBuffer();
    Map<String, String> json = with(SHOP, "Content-Type", "application/json");
    List<Case> cases = new ArrayList<>();
    cases.add(new Case("post", push, 202, () -> http.request(HttpMethod.POST, push, json, toBob)));
    cases.add(new Case("post", push, 400, () -> http.request(HttpMethod.POST, push, json, Buffer.buffer("[not json"))));
    cases.add(new Case("post", push, 401, () -> http.postJson(push, new JsonObject().put("to", "bob").put("body", "hi"))));
    cases.add(new Case("post", push, 403, () -> http.request(HttpMethod.POST, push, json,
        new JsonObject().put("to", "bob").put("body", "hi").put("from", "someone").toBuffer())));
    cases.add(new Case("post", push, 409, () -> http.request(HttpMethod.POST, push, with(json, "Idempotency-Key", "k1"), toBob)
        .compose(first -> http.request(HttpMethod.POST, push, with(json, "Idempotency-Key", "k1"),
            new JsonObject().put("to", "bob").put("body", "another").toBuffer()))));
    cases.add(new Case("post", push, 413, () -> http.request(HttpMethod.POST, push, json,
        new JsonObject().put("to", "bob").put("body", "x".repeat(2 * 1024 * 1024)).toBuffer())));
    cases.add(new Case("post", push, 415, () -> http.request(HttpMethod.POST, push, with(SHOP, "Content-Type", "text/plain"), toBob)));
    cases.add(new Case("post", push, 503, () -> whileBehind(vertx, () -> http.request(HttpMethod.POST, push, json, toBob))));

    String presence = "/api/v1/users/{id}/presence";
    cases.add(new Case("get", presence, 200, () -> http.request(HttpMethod.GET, "/api/v1/users/bob/presence", SHOP, null)));
    cases.add(new Case("get", presence, 400, () -> http.request(HttpMethod.GET, "/api/v1/users/bad%20id!/presence", SHOP, null)));
    cases.add(new Case("get", presence, 401, () -> http.get("/api/v1/users/bob/presence")));

    String rooms = "/api/v1/rooms";
    Buffer team = new JsonObject().put("room", "team").toBuffer();
    cases.add(new Case("post", rooms, 201, () -> http.request(HttpMethod.POST, rooms, json, team)));
    cases.add(new Case("post", rooms, 400, () -> http.request(HttpMethod.POST, rooms, json, new JsonObject().toBuffer())));
    cases.add(new Case("post", rooms, 401, () -> http.postJson(rooms, new JsonObject().put("room", "other"))));
    cases.add(new Case("post", rooms, 409, () -> http.request(HttpMethod.POST, rooms, json, team)));
    String member = "/api/v1/rooms/{room}/members/{user}";
    cases.add(new Case("put", member, 200, () -> http.request(HttpMethod.PUT, "/api/v1/rooms/team/members/bob", SHOP, null)));
    cases.add(new Case("put", member, 401, () -> http.request(HttpMethod.PUT, "/api/v1/rooms/team/members/bob", Map.of(), null)));
    cases.add(new Case("put", member, 404, () -> http.request(HttpMethod.PUT, "/api/v1/rooms/nowhere/members/bob", SHOP, null)));
    cases.add(new Case("put", member, 409, () -> roomFull(http)));
    cases.add(new Case("delete", member, 200, () -> http.request(HttpMethod.PUT, "/api/v1/rooms/team/members/carol", SHOP, null)
        .compose(added -> http.request(HttpMethod.DELETE, "/api/v1/rooms/team/members/carol", SHOP, null))));
    cases.add(new Case("delete", member, 401, () -> http.request(HttpMethod.DELETE, "/api/v1/rooms/team/members/bob", Map.of(), null)));
    cases.add(new Case("delete", member, 403, () -> http.request(HttpMethod.DELETE, "/api/v1/rooms/team/members/dave", SHOP, null)));
    cases.add(new Case("delete", member, 404, () -> http.request(HttpMethod.DELETE, "/api/v1/rooms/nowhere/members/bob", SHOP, null)));
    String members = "/api/v1/rooms/{room}/members";
    cases.add(new Case("get", members, 200, () -> http.request(HttpMethod.GET, "/api/v1/rooms/team/members", SHOP, null)));
    cases.add(new Case("get", members, 401, () -> http.get("/api/v1/rooms/team/members")));
    cases.add(new Case("get", members, 404, () -> http.request(HttpMethod.GET, "/api/v1/rooms/nowhere/members", SHOP, null)));
    String userRooms = "/api/v1/users/{user}/rooms";
    cases.add(new Case("get", userRooms, 200, () -> http.request(HttpMethod.GET, "/api/v1/users/bob/rooms", SHOP, null)));
    cases.add(new Case("get", userRooms, 400, () -> http.request(HttpMethod.GET, "/api/v1/users/bad%20id!/rooms", SHOP, null)));
    cases.add(new Case("get", userRooms, 401, () -> http.get("/api/v1/users/bob/rooms")));

    String admin = "/api/v1/admin/users/{id}";
    cases.add(new Case("get", admin, 200, () -> http.request(HttpMethod.GET, "/api/v1/admin/users/bob?devices=phone", OPS, null)));
    cases.add(new Case("get", admin, 401, () -> http.get("/api/v1/admin/users/bob")));
    cases.add(new Case("get", admin, 403, () -> http.request(HttpMethod.GET, "/api/v1/admin/users/bob", SHOP, null)));
    String nodes = "/api/v1/admin/nodes";
    cases.add(new Case("get", nodes, 200, () -> http.request(HttpMethod.GET, nodes, OPS, null)));
    cases.add(new Case("get", nodes, 401, () -> http.get(nodes)));
    cases.add(new Case("get", nodes, 403, () -> http.request(HttpMethod.GET, nodes, SHOP, null)));

    cases.add(new Case("get", "/metrics", 200, () -> http.request(HttpMethod.GET, "/metrics", SHOP, null)));
    cases.add(new Case("get", "/metrics", 401, () -> http.get("/metrics")));
    cases.add(new Case("get", "/metrics", 404, () -> noMetrics.request(HttpMethod.GET, "/metrics", SHOP, null)));

    cases.add(new Case("get", "/health", 200, () -> http.get("/health")));
    cases.add(new Case("get", "/health", 503, () -> whileInboxFails(vertx, () -> http.get("/health"))));
    cases.add(new Case("get", "/health/live", 200, () -> http.get("/health/live")));
    cases.add(new Case("get", "/health/ready", 200, () -> http.get("/health/ready")));
    cases.add(new Case("get", "/health/ready", 503, () -> whileBehind(vertx, () -> http.get("/health/ready"))));
    return cases;
  }

  /** One member too many: the server runs with {@code limits.maxRoomMembers} 3 (jwtConfig), the room "small" gets its fourth. */
  private static Future<Http.Response> roomFull(Http http) {
    Map<String, String> json = with(SHOP, "Content-Type", "application/json");
    return http.request(HttpMethod.POST, "/api/v1/rooms", json, new JsonObject().put("room", "small").toBuffer())
        .compose(r -> http.request(HttpMethod.PUT, "/api/v1/rooms/small/members/m1", SHOP, null))
        .compose(r -> http.request(HttpMethod.PUT, "/api/v1/rooms/small/members/m2", SHOP, null))
        .compose(r -> http.request(HttpMethod.PUT, "/api/v1/rooms/small/members/m3", SHOP, null));
  }

  /** While a gateway reports its loop behind, as {@code LoopLag} would (once the router has heard it). */
  private static Future<Http.Response> whileBehind(Vertx vertx, Supplier<Future<Http.Response>> request) {
    DeliveryOptions local = new DeliveryOptions().setLocalOnly(true);
    vertx.eventBus().publish(Addresses.ROUTER_LOAD, new GatewayLoad("gateway-test", true, 5_000).toJson(), local);
    return routerCounts(vertx, 1).compose(v -> request.get()).eventually(() -> {
      vertx.eventBus().publish(Addresses.ROUTER_LOAD, new GatewayLoad("gateway-test", false, 0).toJson(), local);
      return routerCounts(vertx, 0);
    });
  }

  /** Completes once the router counts {@code behind} gateways: it handles reports on its own event loop. */
  private static Future<Void> routerCounts(Vertx vertx, int behind) {
    if (SwitchboardMetrics.of(vertx).gatewaysBehind() == behind) {
      return Future.succeededFuture();
    }
    Promise<Void> later = Promise.promise();
    vertx.setTimer(5, id -> later.complete());
    return later.future().compose(v -> routerCounts(vertx, behind));
  }

  /** While every inbox read fails, as when the store cannot answer. */
  private static Future<Http.Response> whileInboxFails(Vertx vertx, Supplier<Future<Http.Response>> request) {
    Handler<DeliveryContext<Object>> failReads = delivery -> {
      if (delivery.message().address().equals(Addresses.INBOX_READ)) {
        delivery.message().fail(503, "store unavailable (injected)");
      } else {
        delivery.next();
      }
    };
    vertx.eventBus().addInboundInterceptor(failReads);
    return request.get().eventually(() -> {
      vertx.eventBus().removeInboundInterceptor(failReads);
      return Future.succeededFuture();
    });
  }

  /** "method path status" for every response in the document. */
  @SuppressWarnings("unchecked")
  private static Set<String> documented(Map<String, Object> spec) {
    Set<String> keys = new TreeSet<>();
    ((Map<String, Object>) spec.get("paths")).forEach((path, item) ->
        ((Map<String, Object>) item).forEach((method, operation) ->
            ((Map<String, Object>) ((Map<String, Object>) operation).get("responses")).keySet()
                .forEach(status -> keys.add(method + " " + path + " " + status))));
    return keys;
  }

  /** The status, the media type and, for JSON, the schema's required top-level fields. */
  @SuppressWarnings("unchecked")
  private static void check(Map<String, Object> spec, Case c, Http.Response response) {
    assertEquals(c.status(), response.status(), c.key() + ": " + response.body());
    Map<String, Object> operation = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) spec.get("paths"))
        .get(c.path())).get(c.method());
    Map<String, Object> documented = resolve(spec,
        ((Map<String, Object>) operation.get("responses")).get(String.valueOf(c.status())));
    Map<String, Object> content = (Map<String, Object>) documented.get("content");
    if (content == null) {
      return;
    }
    String type = response.headers().get("Content-Type");
    String mediaType = content.keySet().iterator().next();
    assertTrue(type != null && type.startsWith(mediaType), c.key() + ": Content-Type " + type + ", documented " + mediaType);
    if (!mediaType.equals("application/json")) {
      return;
    }
    Map<String, Object> schema = resolve(spec, ((Map<String, Object>) content.get(mediaType)).get("schema"));
    JsonObject body = response.json();
    for (String field : (List<String>) schema.getOrDefault("required", List.of())) {
      assertTrue(body.containsKey(field), c.key() + ": body lacks " + field + ": " + body);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> resolve(Map<String, Object> spec, Object node) {
    Map<String, Object> map = (Map<String, Object>) node;
    Object ref = map.get("$ref");
    if (ref == null) {
      return map;
    }
    Object target = spec;
    for (String part : ((String) ref).substring(2).split("/")) {
      target = ((Map<String, Object>) target).get(part);
    }
    return resolve(spec, target);
  }
}
