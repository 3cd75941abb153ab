package dev.switchboard.config;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(VertxExtension.class)
class ConfigTest {

  @Test
  @DisplayName("conf/config.json holds the documented defaults")
  void defaults(Vertx vertx, VertxTestContext ctx) {
    ConfigLoader.load(vertx, new JsonObject(), Map.of()).onComplete(ctx.succeeding(json -> ctx.verify(() -> {
      SwitchboardConfig config = SwitchboardConfig.fromJson(json);
      assertEquals("127.0.0.1", config.gateway().host());
      assertEquals(8080, config.gateway().port());
      assertEquals(List.of("/ws", "/Handler1.ashx"), config.gateway().webSocketPaths());
      assertEquals(8081, config.push().port());
      assertEquals("data", config.inbox().dataDir());
      assertEquals(2L * 24 * 3600 * 1000, config.inbox().retentionMillis());
      assertEquals(5L * 60 * 1000, config.inbox().idempotencyWindowMillis());
      assertEquals(InboxConfig.Engine.LOG, config.inbox().engine());
      assertEquals(64L * 1024 * 1024, config.inbox().logSegmentBytes());
      assertEquals(false, config.inbox().logRepair(), "repair is never the default");
      assertEquals(true, config.inbox().verifyInBackground(), "a start trusts whole indexes and checks segments after");
      assertEquals(List.of("postgresql://switchboard@127.0.0.1:5432/switchboard"), config.inbox().postgresUris());
      assertEquals(3_600_000L, config.inbox().postgresPartitionMillis());
      assertEquals(8, config.inbox().postgresPoolSize());
      assertEquals(65_536, config.limits().maxBodyBytes());
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("the layers read before Vert.x starts are those the verticle reads; cluster TLS needs both stores, a node key 16+ characters")
  void clusterTls(Vertx vertx, VertxTestContext ctx) {
    JsonObject launcher = new JsonObject().put("cluster", new JsonObject().put("eventBusTls", true)
        .put("keyStore", "/etc/switchboard/node.p12"));
    Map<String, String> env = Map.of("SWITCHBOARD_CLUSTER_TRUST_STORE", "/etc/switchboard/cluster-trust.p12");
    JsonObject now = ConfigLoader.loadNow(launcher, env);
    ClusterSecurityConfig tls = ClusterSecurityConfig.fromJson(now);
    assertTrue(tls.eventBusTls());
    assertEquals("/etc/switchboard/node.p12", tls.keyStore());
    assertEquals("/etc/switchboard/cluster-trust.p12", tls.trustStore());
    assertEquals(false, ClusterSecurityConfig.fromJson(ConfigLoader.loadNow(null, Map.of())).eventBusTls());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> ClusterSecurityConfig.fromJson(ConfigLoader.loadNow(launcher, Map.of())));
    assertTrue(missing.getMessage().contains("cluster.trustStore"), missing.getMessage());
    IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class, () -> ClusterSecurityConfig.fromJson(
        ConfigLoader.loadNow(new JsonObject().put("cluster", new JsonObject().put("nodeKey", "short")), Map.of())));
    assertTrue(shortKey.getMessage().contains("cluster.nodeKey"), shortKey.getMessage());
    ConfigLoader.load(vertx, launcher, env).onComplete(ctx.succeeding(json -> ctx.verify(() -> {
      assertEquals(json, now);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("the -conf JSON overrides the file, and environment variables override both")
  void layering(Vertx vertx, VertxTestContext ctx) {
    JsonObject launcher = new JsonObject().put("gateway", new JsonObject().put("port", 9000).put("host", "0.0.0.0"));
    Map<String, String> env = Map.of("SWITCHBOARD_GATEWAY_PORT", "9100", "SWITCHBOARD_INBOX_MAX_MESSAGES_PER_USER", "5",
        "SWITCHBOARD_PUSH_CORS_ORIGINS", "https://a.example, https://b.example",
        "SWITCHBOARD_INBOX_ENGINE", "postgres", "SWITCHBOARD_INBOX_POSTGRES_URI", "postgresql://sb:secret@db.internal/inbox",
        "SWITCHBOARD_INBOX_LOG_REPAIR", "true", "SWITCHBOARD_INBOX_VERIFY_IN_BACKGROUND", "false");
    ConfigLoader.load(vertx, launcher, env).onComplete(ctx.succeeding(json -> ctx.verify(() -> {
      SwitchboardConfig config = SwitchboardConfig.fromJson(json);
      assertEquals(9100, config.gateway().port());
      assertEquals("0.0.0.0", config.gateway().host());
      assertEquals(5, config.inbox().maxMessagesPerUser());
      assertEquals(List.of("https://a.example", "https://b.example"), config.push().corsOrigins());
      assertEquals(InboxConfig.Engine.POSTGRES, config.inbox().engine());
      assertEquals(List.of("postgresql://sb:secret@db.internal/inbox"), config.inbox().postgresUris());
      assertEquals(true, config.inbox().logRepair());
      assertEquals(false, config.inbox().verifyInBackground());
      assertEquals(65_536, config.limits().maxBodyBytes());
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("environment variable names follow the key: inbox.maxMessagesPerUser is SWITCHBOARD_INBOX_MAX_MESSAGES_PER_USER")
  void envNames() {
    assertEquals("SWITCHBOARD_INBOX_MAX_MESSAGES_PER_USER", ConfigLoader.envName("inbox", "maxMessagesPerUser"));
    assertEquals("SWITCHBOARD_GATEWAY_PORT", ConfigLoader.envName("gateway", "port"));
    assertEquals("SWITCHBOARD_INBOX_POSTGRES_URI", ConfigLoader.envName("inbox", "postgresUri"));
  }

  @Test
  @DisplayName("a bad value is refused with the full key named")
  void validation(Vertx vertx, VertxTestContext ctx) {
    ConfigLoader.load(vertx, new JsonObject(), Map.of()).onComplete(ctx.succeeding(json -> ctx.verify(() -> {
      JsonObject badPort = json.copy();
      badPort.getJsonObject("gateway").put("port", 70000);
      assertEquals("gateway.port must be 0..65535, got 70000",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badPort)).getMessage());
      // A room read is expanded by the store, not sent to a recipient list: maxRecipients does not bound it.
      JsonObject receiptsAboveRecipients = json.copy();
      receiptsAboveRecipients.getJsonObject("limits").put("maxRecipients", 10).put("roomReceiptMembers", 12);
      assertEquals(12, SwitchboardConfig.fromJson(receiptsAboveRecipients).limits().roomReceiptMembers());
      assertEquals(500, SwitchboardConfig.fromJson(json).limits().maxQueueMillis());
      JsonObject badQueue = json.copy();
      badQueue.getJsonObject("limits").put("maxQueueMillis", 0);
      assertEquals("limits.maxQueueMillis must be 1..600000, got 0",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badQueue)).getMessage());
      JsonObject queueBeyondTimeout = json.copy();
      queueBeyondTimeout.getJsonObject("limits").put("requestTimeoutSeconds", 2).put("maxQueueMillis", 2000);
      assertEquals("limits.maxQueueMillis must be less than limits.requestTimeoutSeconds in ms (2000), got 2000",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(queueBeyondTimeout)).getMessage());
      JsonObject badHeartbeat = json.copy();
      badHeartbeat.getJsonObject("gateway").put("idleTimeoutSeconds", 10).put("heartbeatIntervalSeconds", 20);
      assertTrue(assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badHeartbeat))
          .getMessage().startsWith("gateway.idleTimeoutSeconds"));
      JsonObject missing = json.copy();
      missing.getJsonObject("inbox").remove("dataDir");
      assertEquals("inbox.dataDir is missing",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(missing)).getMessage());
      JsonObject badSync = json.copy();
      badSync.getJsonObject("inbox").put("synchronous", "sometimes");
      assertTrue(assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badSync))
          .getMessage().startsWith("inbox.synchronous must be one of"));
      JsonObject badEngine = json.copy();
      badEngine.getJsonObject("inbox").put("engine", "mysql");
      assertEquals("inbox.engine must be one of [LOG, POSTGRES], got MYSQL",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badEngine)).getMessage());
      JsonObject badUri = json.copy();
      badUri.getJsonObject("inbox").put("postgresUri", "jdbc:postgresql://db/inbox");
      assertEquals("inbox.postgresUri must be a URI starting with postgresql://",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badUri)).getMessage());
      JsonObject badSegment = json.copy();
      badSegment.getJsonObject("inbox").put("segmentMegabytes", 0);
      assertEquals("inbox.segmentMegabytes must be 1..4096, got 0",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badSegment)).getMessage());
      JsonObject badPool = json.copy();
      badPool.getJsonObject("inbox").put("postgresPoolSize", 0);
      assertEquals("inbox.postgresPoolSize must be 1..1000, got 0",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badPool)).getMessage());
      JsonObject badCache = json.copy();
      badCache.getJsonObject("inbox").put("indexCacheMegabytes", 0);
      assertEquals("inbox.indexCacheMegabytes must be 1..65536, got 0",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badCache)).getMessage());
      JsonObject webhookWithoutSecret = json.copy();
      webhookWithoutSecret.getJsonObject("webhook").put("url", "https://push.example.com/hook").put("secret", "short");
      assertTrue(assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(webhookWithoutSecret))
          .getMessage().startsWith("webhook.secret must have at least 16 characters"));
      JsonObject webhookScheme = json.copy();
      webhookScheme.getJsonObject("webhook").put("url", "file:///etc/passwd").put("secret", "0123456789abcdef");
      assertTrue(assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(webhookScheme))
          .getMessage().startsWith("webhook.url must be empty"));
      JsonObject webhookRetries = json.copy();
      webhookRetries.getJsonObject("webhook").put("retryInitialMillis", 5000).put("retryMaxMillis", 1000);
      assertTrue(assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(webhookRetries))
          .getMessage().startsWith("webhook.retryMaxMillis must be at least"));
      JsonObject webhookOn = json.copy();
      webhookOn.getJsonObject("webhook").put("url", "https://push.example.com/hook").put("secret", "0123456789abcdef");
      assertTrue(SwitchboardConfig.fromJson(webhookOn).webhook().enabled());
      assertFalse(SwitchboardConfig.fromJson(webhookOn).webhook().toString().contains("0123456789abcdef"));
      assertFalse(SwitchboardConfig.fromJson(json).webhook().enabled());
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("inbox.postgresUris, comma-separated in its variable, wins over inbox.postgresUri; a URI of another "
      + "scheme or a database listed twice is refused")
  void shards(Vertx vertx, VertxTestContext ctx) {
    Map<String, String> env = Map.of("SWITCHBOARD_INBOX_POSTGRES_URIS",
        "postgresql://sb@db0/inbox, postgresql://sb@db1/inbox");
    ConfigLoader.load(vertx, new JsonObject(), env).onComplete(ctx.succeeding(json -> ctx.verify(() -> {
      assertEquals(List.of("postgresql://sb@db0/inbox", "postgresql://sb@db1/inbox"),
          SwitchboardConfig.fromJson(json).inbox().postgresUris());
      JsonObject badScheme = json.copy();
      badScheme.getJsonObject("inbox").put("postgresUris", new io.vertx.core.json.JsonArray().add("mysql://db/inbox"));
      assertEquals("inbox.postgresUris must hold URIs starting with postgresql://",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(badScheme)).getMessage());
      JsonObject twice = json.copy();
      twice.getJsonObject("inbox").put("postgresUris", "postgresql://sb@db0/inbox,postgresql://sb@db0/inbox");
      assertEquals("inbox.postgresUris lists a database twice",
          assertThrows(IllegalArgumentException.class, () -> SwitchboardConfig.fromJson(twice)).getMessage());
      ctx.completeNow();
    })));
  }
}
