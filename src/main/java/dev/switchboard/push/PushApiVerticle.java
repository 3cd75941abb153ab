package dev.switchboard.push;

import dev.switchboard.auth.ApiKeys;
import dev.switchboard.bus.Addresses;
import dev.switchboard.config.AuthConfig;
import dev.switchboard.bus.BusFailures;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.RoomRequest;
import dev.switchboard.bus.SendOutcome;
import dev.switchboard.config.LimitsConfig;
import dev.switchboard.config.PushApiConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.metrics.ClusterView;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.JsonDepth;
import dev.switchboard.protocol.ProtocolException;
import dev.switchboard.routing.UserDirectory;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The HTTP API back ends push through: {@code POST /api/v1/messages},
 * {@code GET /api/v1/users/{id}/presence}; for operators {@code GET /metrics} (Prometheus) and
 * {@code /health}, {@code /health/live}, {@code /health/ready} for load balancers and Kubernetes.
 * It only translates HTTP to the router's event-bus addresses and the answers back, so HTTP and
 * event-bus publishers get the same behaviour.
 */
public final class PushApiVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(PushApiVerticle.class);
  private static final String JSON = "application/json";
  static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  private static final String API_KEY = "switchboard.apiKey";

  private PushApiConfig config;
  private AuthConfig auth;
  private ApiKeys apiKeys;
  private DeliveryOptions requestOptions;
  /**
   * HTTP pushes go to this node's router, not to whichever node's router the clustered event bus
   * picks: no extra hop, and never to a node that has just died (until the cluster drops its
   * registration, such a push would go unanswered until the request timeout).
   */
  private DeliveryOptions pushOptions;
  private int maxJsonDepth;
  private HttpServer server;
  private UserDirectory directory;
  /** The device the admin lookup reads the inbox head as: not a valid device id, so no client's cursor. */
  private static final String ADMIN_DEVICE = "~admin";
  private static final int MAX_LOOKUP_DEVICES = 20;
  private static final Pattern QUERY_LIST = Pattern.compile(",");
  private SwitchboardMetrics metrics;
  private ClusterMembers members;

  private final SwitchboardConfig settings;

  /** The push API with the node's configuration, parsed once by the caller. */
  public PushApiVerticle(SwitchboardConfig settings) {
    this.settings = settings;
  }

  @Override
  public Future<?> start() {
    config = settings.push();
    auth = settings.auth();
    apiKeys = new ApiKeys(auth.apiKeys());
    LimitsConfig limits = settings.limits();
    requestOptions = new DeliveryOptions().setSendTimeout(limits.requestTimeoutMillis());
    pushOptions = new DeliveryOptions(requestOptions).setLocalOnly(true);
    maxJsonDepth = limits.maxJsonDepth();
    metrics = SwitchboardMetrics.of(vertx);
    directory = UserDirectory.create(vertx);
    members = new ClusterMembers(vertx, metrics, requestOptions);

    Router router = Router.router(vertx);
    router.route().handler(CorsHandler.create()
        .addOrigins(config.corsOrigins())
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE))
        .allowedHeaders(Set.of("Content-Type", IDEMPOTENCY_KEY, "Authorization")));
    router.route("/api/*").handler(this::requireApiKey);
    router.post("/api/v1/messages").handler(BodyHandler.create(false).setBodyLimit(config.maxRequestBytes()))
        .handler(this::onPush);
    router.get("/api/v1/users/:id/presence").handler(this::onPresence);
    router.post("/api/v1/rooms").handler(BodyHandler.create(false).setBodyLimit(config.maxRequestBytes()))
        .handler(this::onCreateRoom);
    router.put("/api/v1/rooms/:room/members/:user").handler(ctx -> onRoomRequest(ctx, RoomRequest.Op.ADD));
    router.delete("/api/v1/rooms/:room/members/:user").handler(ctx -> onRoomRequest(ctx, RoomRequest.Op.REMOVE));
    router.get("/api/v1/rooms/:room/members").handler(ctx -> onRoomRequest(ctx, RoomRequest.Op.MEMBERS));
    router.get("/api/v1/users/:user/rooms").handler(ctx -> onRoomRequest(ctx, RoomRequest.Op.ROOMS));
    router.get("/api/v1/admin/users/:id").handler(this::requireAdmin).handler(this::onUserLookup);
    router.get("/api/v1/admin/nodes").handler(this::requireAdmin).handler(this::onMembers);
    router.get("/metrics").handler(this::requireApiKey).handler(metricsHandler());
    router.get("/health").handler(HealthCheckHandler.createWithHealthChecks(fullHealth()));
    router.get("/health/live").handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, JSON)
        .end(new JsonObject().put("status", "UP").encode()));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness()));
    router.route().last().handler(ctx -> respondError(ctx, new ProtocolException(ErrorCode.NOT_FOUND, "no such resource")));
    router.errorHandler(413, ctx -> respondError(ctx, new ProtocolException(ErrorCode.TOO_LARGE,
        "request body is larger than " + config.maxRequestBytes() + " bytes")));
    // The CORS handler fails a request from an origin not on push.corsOrigins with 403: answer it
    // as every other refusal is answered, not through the router's fallback for unhandled failures.
    router.errorHandler(403, ctx -> respondError(ctx, new ProtocolException(ErrorCode.FORBIDDEN,
        "origin not allowed: not on push.corsOrigins")));
    router.errorHandler(405, ctx -> respondError(ctx, new ProtocolException(ErrorCode.NOT_FOUND, "method not allowed here")));

    HttpServerOptions options = settings.tls().apply(new HttpServerOptions())
        .setHost(config.host()).setPort(config.port());
    server = vertx.createHttpServer(options).requestHandler(router);
    return members.answerForThisNode().compose(v -> server.listen()).onSuccess(s -> LOG.info("push API listening on {}://{}:{}/api/v1",
        options.isSsl() ? "https" : "http", config.host(), s.actualPort()));
  }

  /** Healthy when the inbox answers a read: the store is open and its verticle is not stuck. */
  private HealthChecks healthChecks() {
    JsonObject probe = new ReadRequest(ReadRequest.PROBE_USER, ReadRequest.PROBE_USER, 0L, 1).toJson();
    return HealthChecks.create(vertx).register("inbox", promise -> vertx.eventBus()
        .request(Addresses.INBOX_READ, probe, requestOptions)
        .onSuccess(reply -> promise.complete(Status.OK()))
        .onFailure(e -> promise.complete(Status.KO(new JsonObject().put("reason", e.getMessage())))));
  }

  /**
   * Everything {@code /health} reports: the inbox answers, and no file of the store was found damaged
   * while it ran. Damage found late does not stop the node (it keeps serving and accepting), so it is
   * not part of readiness; it is here, with the files named, for the operator to repair.
   */
  private HealthChecks fullHealth() {
    return healthChecks().register("storeFiles", promise -> {
      List<String> damaged = metrics.damagedSegments();
      promise.complete(damaged.isEmpty() ? Status.OK()
          : Status.KO(new JsonObject()
              .put("reason", "log segments whose CRC-32C does not match their index: see docs/storage.md, Repair")
              .put("damaged", new io.vertx.core.json.JsonArray(damaged))));
    });
  }

  /**
   * Ready to take new clients and messages: the inbox answers, its last commit did not fail, no
   * gateway loop is behind (new messages would be refused with {@code overloaded}), and, when
   * clustered, this node is a member.
   */
  private HealthChecks readiness() {
    ClusterView cluster = new ClusterView(vertx);
    return healthChecks()
        .register("store", promise -> promise.complete(metrics.storeFailing()
            ? Status.KO(new JsonObject().put("reason", "the last inbox commit failed"))
            : Status.OK()))
        .register("load", promise -> {
          long behind = metrics.gatewaysBehind();
          promise.complete(behind == 0 ? Status.OK()
              : Status.KO(new JsonObject().put("reason", behind + " gateway event loops are behind")));
        })
        .register("cluster", promise -> promise.complete(cluster.joined()
            ? Status.OK().setData(new JsonObject().put("members", cluster.members()))
            : Status.KO(new JsonObject().put("reason", "not a member of the cluster"))));
  }

  /** Prometheus's text format, or 404 when {@code metrics.enabled} is false. */
  private io.vertx.core.Handler<RoutingContext> metricsHandler() {
    if (!metrics.enabled()) {
      return ctx -> respondError(ctx, new ProtocolException(ErrorCode.NOT_FOUND, "metrics are off (metrics.enabled)"));
    }
    return PrometheusScrapingHandler.create(metrics.prometheus());
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** Outside insecure mode every API call names a configured key; the key travels with the request. */
  private void requireApiKey(RoutingContext ctx) {
    if (auth.insecure()) {
      ctx.next();
      return;
    }
    AuthConfig.ApiKey key = apiKeys.match(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
    if (key == null) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      respondError(ctx, new ProtocolException(ErrorCode.UNAUTHORIZED, ErrorCode.UNAUTHORIZED.meaning()));
      return;
    }
    ctx.put(API_KEY, key);
    ctx.next();
  }

  /** The admin API shows any user's inbox state: outside insecure mode only a key marked {@code admin} may. */
  private void requireAdmin(RoutingContext ctx) {
    AuthConfig.ApiKey key = ctx.get(API_KEY);
    if (auth.insecure() || (key != null && key.admin())) {
      ctx.next();
      return;
    }
    respondError(ctx, new ProtocolException(ErrorCode.FORBIDDEN, "this API key is not an admin key (auth.apiKeys[].admin)"));
  }

  /**
   * What an operator asks about one user: sessions by node, the inbox head, and the cursor of each
   * device named in {@code ?devices=} (the store keeps cursors by device and has no list of them).
   */
  private void onUserLookup(RoutingContext ctx) {
    String user = ctx.pathParam("id");
    List<String> devices = QUERY_LIST.splitAsStream(ctx.request().getParam("devices", ""))
        .filter(d -> !d.isBlank()).distinct().limit(MAX_LOOKUP_DEVICES).toList();
    Future<JsonObject> presence = vertx.eventBus().<JsonObject>request(Addresses.PRESENCE, new JsonObject().put("user", user),
        requestOptions).map(reply -> reply.body());
    Future<Map<String, Integer>> nodes = directory.sessionsByNode(user);
    Future<InboxPage> head = readPage(new ReadRequest(user, ADMIN_DEVICE, 0L, 1));
    List<Future<InboxPage>> cursors = devices.stream().map(d -> readPage(new ReadRequest(user, d, null, 1))).toList();
    List<Future<?>> all = new ArrayList<>(List.of(presence, nodes, head));
    all.addAll(cursors);
    Future.all(all).onSuccess(done -> {
      JsonArray deviceCursors = new JsonArray();
      for (int i = 0; i < devices.size(); i++) {
        deviceCursors.add(new JsonObject().put("device", devices.get(i)).put("cursor", cursors.get(i).result().after()));
      }
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(presence.result().copy()
          .put("nodes", new JsonObject(new LinkedHashMap<>(nodes.result())))
          .put("head", head.result().head())
          .put("devices", deviceCursors).encode());
    }).onFailure(e -> respondError(ctx, BusFailures.asProtocolException(e)));
  }

  /** The cluster's members, each with its address and the sessions it holds. */
  private void onMembers(RoutingContext ctx) {
    members.list()
        .onSuccess(list -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(list.encode()))
        .onFailure(e -> respondError(ctx, BusFailures.asProtocolException(e)));
  }

  private Future<InboxPage> readPage(ReadRequest request) {
    return vertx.eventBus().<InboxPage>request(Addresses.INBOX_READ, request.toJson(), requestOptions).map(reply -> reply.body());
  }

  /** The request's JSON object, or null once the request was answered with why it is not one. */
  private JsonObject jsonBody(RoutingContext ctx) {
    String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (contentType == null || !contentType.toLowerCase().startsWith(JSON)) {
      respondError(ctx, new ProtocolException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "send the request as " + JSON));
      return null;
    }
    JsonObject request;
    try {
      String text = ctx.body().asString();
      request = text == null || JsonDepth.exceeds(text, maxJsonDepth) ? null : new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      request = null;
    }
    if (request == null) {
      respondError(ctx, new ProtocolException(ErrorCode.BAD_JSON,
          "request body is not a JSON object of at most " + maxJsonDepth + " levels"));
    }
    return request;
  }

  /**
   * Creates a room owned by {@code owner}: with an API key, the key's name unless the key may speak
   * for others ({@code mayImpersonate}, as {@code from} of a push); in insecure mode the body's
   * {@code owner}, else {@code push.defaultSender}.
   */
  private void onCreateRoom(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    if (body == null) {
      return;
    }
    String owner;
    try {
      Object room = body.getValue("room");
      if (!(room instanceof String)) {
        throw new ProtocolException(room == null ? ErrorCode.MISSING_FIELD : ErrorCode.INVALID_FIELD, "room must be a room id");
      }
      owner = actingAs(ctx, body.getValue("owner"));
    } catch (ProtocolException e) {
      respondError(ctx, e);
      return;
    }
    routeRoom(ctx, new RoomRequest(RoomRequest.Op.CREATE, body.getString("room"), null, owner, true), 201);
  }

  /** Who a back end acts as: the key's name, or (a key that may, or insecure mode) who the request names. */
  private String actingAs(RoutingContext ctx, Object named) {
    AuthConfig.ApiKey apiKey = ctx.get(API_KEY);
    if (apiKey != null) {
      return ApiKeys.sender(apiKey, named);
    }
    if (named != null && !(named instanceof String)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "owner must be a user id");
    }
    return named == null ? config.defaultSender() : (String) named;
  }

  /** Adds or removes a member, lists a room's members or a user's rooms, as a back end (which may do everything). */
  private void onRoomRequest(RoutingContext ctx, RoomRequest.Op op) {
    String by = actingAs(ctx, null);
    RoomRequest request = op == RoomRequest.Op.ROOMS
        ? new RoomRequest(op, null, ctx.pathParam("user"), by, true)
        : new RoomRequest(op, ctx.pathParam("room"), ctx.pathParam("user"), by, true);
    routeRoom(ctx, request, 200);
  }

  private void routeRoom(RoutingContext ctx, RoomRequest request, int status) {
    vertx.eventBus().<JsonObject>request(Addresses.ROUTER_ROOM, request.toJson(), pushOptions)
        .onSuccess(reply -> ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON)
            .end(reply.body().encode()))
        .onFailure(e -> respondError(ctx, BusFailures.asProtocolException(e)));
  }

  private void onPush(RoutingContext ctx) {
    JsonObject request = jsonBody(ctx);
    if (request == null) {
      return;
    }
    AuthConfig.ApiKey apiKey = ctx.get(API_KEY);
    DeliveryOptions options = pushOptions;
    if (apiKey != null) {
      try {
        request.put("from", ApiKeys.sender(apiKey, request.getValue("from")));
      } catch (ProtocolException e) {
        respondError(ctx, e);
        return;
      }
      options = new DeliveryOptions(pushOptions).addHeader(Addresses.PRINCIPAL_HEADER, apiKey.name());
    }
    String key = ctx.request().getHeader(IDEMPOTENCY_KEY);
    if (key != null) {
      request.put("idempotencyKey", key);
    }
    vertx.eventBus().<SendOutcome>request(Addresses.ROUTER_PUSH, request, options)
        .onSuccess(reply -> respondOutcome(ctx, reply.body()))
        .onFailure(e -> respondError(ctx, BusFailures.asProtocolException(e)));
  }

  /** 202 when any copy was stored; when none was, the status of the (first) refusal. */
  private static void respondOutcome(RoutingContext ctx, SendOutcome outcome) {
    RecipientResult anyStored = outcome.results().stream().filter(RecipientResult::isStored).findFirst().orElse(null);
    if (anyStored == null) {
      ErrorCode code = outcome.results().get(0).error();
      ctx.response().setStatusCode(code.httpStatus()).putHeader(HttpHeaders.CONTENT_TYPE, JSON)
          .end(outcome.toJson().put("error", code.wireName()).put("message", code.meaning()).encode());
      return;
    }
    ctx.response().setStatusCode(202).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(outcome.encode());
  }

  private void onPresence(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.PRESENCE, new JsonObject().put("user", ctx.pathParam("id")), requestOptions)
        .onSuccess(reply -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(reply.body().encode()))
        .onFailure(e -> respondError(ctx, BusFailures.asProtocolException(e)));
  }

  private static void respondError(RoutingContext ctx, ProtocolException e) {
    if (ctx.response().ended()) {
      return;
    }
    if (e.code() == ErrorCode.OVERLOADED) {
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
    }
    ctx.response().setStatusCode(e.code().httpStatus()).putHeader(HttpHeaders.CONTENT_TYPE, JSON)
        .end(new JsonObject().put("error", e.code().wireName()).put("message", e.getMessage()).encode());
  }
}
