package dev.switchboard.auth;

import dev.switchboard.support.Http;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nobody can be someone else: tokens for clients, API keys for back ends, origins for browsers. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class AuthIT {

  static final String SECRET = "test-secret-of-at-least-32-bytes-long!";
  static final String ORIGIN = "https://chat.example";

  @TempDir
  Path dataDir;
  TestServer server;
  JWTAuth issuer;

  static JsonObject secureConfig() {
    return new JsonObject()
        .put("gateway", new JsonObject().put("heartbeatIntervalSeconds", 1).put("idleTimeoutSeconds", 10))
        .put("auth", new JsonObject().put("mode", "jwt").put("jwtKey", SECRET).put("jwtLeewaySeconds", 0)
            .put("allowedOrigins", new JsonArray().add(ORIGIN))
            .put("apiKeys", new JsonArray()
                .add(new JsonObject().put("name", "shop").put("sha256", ApiKeys.sha256("shop-key")))
                .add(new JsonObject().put("name", "ops").put("sha256", ApiKeys.sha256("ops-key")).put("mayImpersonate", true))));
  }

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
    TestServer.start(vertx, dataDir, secureConfig()).onComplete(ctx.succeeding(s -> {
      server = s;
      ctx.completeNow();
    }));
  }

  String token(String user, int expiresInSeconds) {
    return issuer.generateToken(new JsonObject().put("sub", user), new JWTOptions().setExpiresInSeconds(expiresInSeconds));
  }

  static String unsignedToken(String user) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = b64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    String payload = b64.encodeToString(("{\"sub\":\"" + user + "\",\"exp\":" + (System.currentTimeMillis() / 1000 + 600) + "}")
        .getBytes(StandardCharsets.UTF_8));
    return header + "." + payload + ".";
  }

  Future<WsClient> connect(Vertx vertx, String query) {
    return WsClient.connect(vertx, server.gatewayPort(), "/ws?device=d&" + query, true);
  }

  /** Connects and expects the refusal: an invalid_token error frame, then close code 1008. */
  Future<Void> refused(Vertx vertx, String query) {
    return connect(vertx, query).compose(c -> c.expect("error").compose(error -> c.closed().map(code -> {
      if (!"invalid_token".equals(error.getString("code")) || code != 1008) {
        throw new AssertionError("expected invalid_token and 1008, got " + error.encode() + " " + code);
      }
      return null;
    })));
  }

  @Test
  @DisplayName("a valid token makes the connection its subject; ?user= alone is not enough")
  void tokenIdentifiesTheUser(Vertx vertx, VertxTestContext ctx) {
    connect(vertx, "token=" + token("alice", 600))
        .compose(alice -> alice.expect("synced").map(alice))
        .compose(alice -> connect(vertx, "user=bob&token=" + token("bob", 600)).compose(bob -> bob.expect("synced")
            .compose(v -> alice.sendMessage("1", "bob", "hi bob"))
            .compose(v -> bob.expect("message"))))
        .compose(message -> {
          ctx.verify(() -> assertEquals("alice", message.getString("from")));
          return refused(vertx, "user=alice");
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("expired, forged, unsigned (alg none) and other users' tokens are refused")
  void badTokensAreRefused(Vertx vertx, VertxTestContext ctx) {
    JWTAuth forger = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer("another-secret-of-at-least-32-bytes!!")));
    String forged = forger.generateToken(new JsonObject().put("sub", "alice"), new JWTOptions().setExpiresInSeconds(600));
    String expired = issuer.generateToken(new JsonObject().put("sub", "alice")
        .put("exp", System.currentTimeMillis() / 1000 - 60), new JWTOptions().setNoTimestamp(true));
    refused(vertx, "token=" + expired)
        .compose(v -> refused(vertx, "token=" + forged))
        .compose(v -> refused(vertx, "token=" + unsignedToken("alice")))
        .compose(v -> refused(vertx, "token=not.a.jwt"))
        .compose(v -> refused(vertx, "user=mallory&token=" + token("alice", 600)))
        .onComplete(ctx.succeedingThenComplete());
  }

  /** A PEM block of {@code der} bytes, as the server reads auth.jwtKey and vertx-auth-jwt reads keys. */
  static String pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----";
  }

  /** Signs tokens as {@code algorithm} with {@code keys}' private key. */
  static JWTAuth signer(Vertx vertx, String algorithm, KeyPair keys) {
    return JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithm)
        .setBuffer(pem("PRIVATE KEY", keys.getPrivate().getEncoded()))));
  }

  static KeyPair keyPair(String algorithm) throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
    if (algorithm.equals("EC")) {
      generator.initialize(new ECGenParameterSpec("secp256r1"));
    } else {
      generator.initialize(2048);
    }
    return generator.generateKeyPair();
  }

  /** A server that verifies tokens with {@code algorithm} and holds only the public key, as docs/security.md recommends. */
  Future<TestServer> publicKeyServer(Vertx vertx, String algorithm, KeyPair keys) {
    JsonObject config = secureConfig();
    config.getJsonObject("auth").put("jwtAlgorithm", algorithm).put("jwtKey", pem("PUBLIC KEY", keys.getPublic().getEncoded()));
    return TestServer.start(vertx, dataDir.resolve(algorithm), config);
  }

  /** Connects to {@code to} with the {@code kind} of token and expects the refusal: invalid_token, then close code 1008. */
  static Future<Void> refusedBy(Vertx vertx, TestServer to, String kind, String token) {
    return WsClient.connect(vertx, to.gatewayPort(), "/ws?device=d&token=" + token, true)
        .compose(c -> c.nextJson().compose(answer -> "invalid_token".equals(answer.getString("code"))
            ? c.closed()
            : Future.failedFuture(new AssertionError("expected invalid_token for " + kind + ", got " + answer.encode()))))
        .compose(code -> code == 1008 ? Future.<Void>succeededFuture()
            : Future.failedFuture(new AssertionError("expected close 1008 for " + kind + ", got " + code)));
  }

  /**
   * With a public key configured for {@code algorithm}: a token signed by its private key connects as
   * its subject (presence counts the session); one signed by another key of the same kind, one of {@code otherAlgorithm}, and an
   * HS256 token whose secret is the public key itself (an algorithm-confusion forgery) are refused.
   */
  void publicKeyTokens(Vertx vertx, VertxTestContext ctx, String algorithm, String keyAlgorithm, String otherAlgorithm,
      String otherKeyAlgorithm) throws GeneralSecurityException {
    KeyPair keys = keyPair(keyAlgorithm);
    KeyPair stranger = keyPair(keyAlgorithm);
    KeyPair otherKind = keyPair(otherKeyAlgorithm);
    JsonObject claims = new JsonObject().put("sub", "alice");
    JWTOptions tenMinutes = new JWTOptions().setAlgorithm(algorithm).setExpiresInSeconds(600);
    String valid = signer(vertx, algorithm, keys).generateToken(claims, tenMinutes);
    String foreign = signer(vertx, algorithm, stranger).generateToken(claims, tenMinutes);
    String otherAlg = signer(vertx, otherAlgorithm, otherKind).generateToken(claims,
        new JWTOptions().setAlgorithm(otherAlgorithm).setExpiresInSeconds(600));
    String confused = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256")
            .setBuffer(pem("PUBLIC KEY", keys.getPublic().getEncoded()))))
        .generateToken(claims, new JWTOptions().setExpiresInSeconds(600));
    publicKeyServer(vertx, algorithm, keys).compose(server ->
            WsClient.connect(vertx, server.gatewayPort(), "/ws?device=d&token=" + valid, true)
                .compose(alice -> alice.expect("synced"))
                .compose(synced -> new Http(vertx, server.pushPort()).request(HttpMethod.GET, "/api/v1/users/alice/presence",
                    Map.of("Authorization", "Bearer shop-key"), null))
                .compose(presence -> {
                  ctx.verify(() -> assertEquals(1, presence.json().getInteger("sessions"), presence.body().toString()));
                  return refusedBy(vertx, server, "a token signed by another key", foreign);
                })
                .compose(v -> refusedBy(vertx, server, "a token of " + otherAlgorithm, otherAlg))
                .compose(v -> refusedBy(vertx, server, "an HS256 token keyed with the public key", confused))
                .compose(v -> refusedBy(vertx, server, "an HS256 token", token("alice", 600))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("RS256 with a public key: its private key's tokens connect; another key's, ES256 and HS256 tokens are refused")
  void rs256Tokens(Vertx vertx, VertxTestContext ctx) throws GeneralSecurityException {
    publicKeyTokens(vertx, ctx, "RS256", "RSA", "ES256", "EC");
  }

  @Test
  @DisplayName("ES256 with a public key: its private key's tokens connect; another key's, RS256 and HS256 tokens are refused")
  void es256Tokens(Vertx vertx, VertxTestContext ctx) throws GeneralSecurityException {
    publicKeyTokens(vertx, ctx, "ES256", "EC", "RS256", "RSA");
  }

  @Test
  @DisplayName("browsers pass the token as a subprotocol entry; the server answers with switchboard.v1")
  void tokenAsSubprotocol(Vertx vertx, VertxTestContext ctx) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.gatewayPort())
        .setURI("/ws?device=web").setSubProtocols(List.of("switchboard.v1", "token." + token("carol", 600)))
        .addHeader("Origin", ORIGIN);
    WsClient.connect(vertx, options).compose(carol -> carol.expect("synced").map(s -> carol.socket().subProtocol()))
        .onComplete(ctx.succeeding(protocol -> ctx.verify(() -> {
          assertEquals("switchboard.v1", protocol);
          ctx.completeNow();
        })));
  }

  /** Connects with the given subprotocols after switchboard.v1, and expects invalid_token then 1008. */
  Future<Void> refusedWithProtocols(Vertx vertx, String query, String... tokenProtocols) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.gatewayPort())
        .setURI("/ws?device=web" + (query.isEmpty() ? "" : "&" + query)).addSubProtocol("switchboard.v1");
    for (String protocol : tokenProtocols) {
      options.addSubProtocol(protocol);
    }
    return WsClient.connect(vertx, options).compose(c -> c.expect("error").compose(error -> c.closed().map(code -> {
      if (!"invalid_token".equals(error.getString("code")) || code != 1008) {
        throw new AssertionError("expected invalid_token and 1008, got " + error.encode() + " " + code);
      }
      return null;
    })));
  }

  @Test
  @DisplayName("a request carrying more than one token (query, subprotocol, or both) is refused, even when they agree")
  void oneTokenPerRequest(Vertx vertx, VertxTestContext ctx) {
    String alice = token("alice", 600);
    String bob = token("bob", 600);
    refusedWithProtocols(vertx, "token=" + alice, "token." + bob)
        .compose(v -> refusedWithProtocols(vertx, "token=" + alice, "token." + alice))
        .compose(v -> refused(vertx, "token=" + alice + "&token=" + bob))
        .compose(v -> refusedWithProtocols(vertx, "", "token." + alice, "token." + bob))
        // One token, either way, still works.
        .compose(v -> connect(vertx, "token=" + alice).compose(c -> c.expect("synced")))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("upgrades from a page of another origin are refused with 403")
  void foreignOriginIsRefused(Vertx vertx, VertxTestContext ctx) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.gatewayPort())
        .setURI("/ws?device=web&token=" + token("carol", 600)).addSubProtocol("switchboard.v1")
        .addHeader("Origin", "https://evil.example");
    WsClient.connect(vertx, options).onComplete(ctx.failing(e -> ctx.verify(() -> {
      assertTrue(e.getMessage().contains("403"), e.getMessage());
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("a session closes with 4001 when its token expires, unless a fresh token arrived in time")
  void tokenExpiryAndRefresh(Vertx vertx, VertxTestContext ctx) {
    // Eve's first token is made first: it expires no later than dora's, so once dora's session has
    // ended, eve's would have too had the fresh token not replaced it.
    String eveFirst = token("eve", 2);
    Future<WsClient> lapsing = connect(vertx, "token=" + token("dora", 2));
    Future<WsClient> refreshed = connect(vertx, "token=" + eveFirst).compose(eve -> eve.expect("synced")
        .compose(v -> eve.send(new JsonObject().put("type", "token").put("token", token("eve", 600))))
        .compose(v -> eve.expect("authenticated"))
        .map(ok -> {
          ctx.verify(() -> assertEquals("eve", ok.getString("user")));
          return eve;
        }));
    Future.all(lapsing, refreshed)
        .compose(all -> all.<WsClient>resultAt(0).closed())
        .compose(code -> {
          ctx.verify(() -> assertEquals((short) 4001, code));
          return refreshed;
        })
        // The server checks the session's expiry on every send, whatever its timers do: accepted means
        // the fresh token's expiry is the one in force.
        .compose(eve -> eve.sendMessage("after-first-expiry", "dora", "still here").compose(v -> eve.expect("accepted")).map(eve))
        .compose(eve -> eve.send(new JsonObject().put("type", "token").put("token", token("mallory", 600)))
            .compose(v -> eve.expect("error"))
            .map(error -> {
              ctx.verify(() -> {
                assertFalse(eve.socket().isClosed());
                assertEquals("invalid_token", error.getString("code"));
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("the push API needs a known API key; the key's name is the sender unless it may set from")
  void apiKeys(Vertx vertx, VertxTestContext ctx) {
    Http http = new Http(vertx, server.pushPort());
    JsonObject push = new JsonObject().put("to", "frank").put("body", "receipt");
    Future.all(List.of(
            http.postJson("/api/v1/messages", push),
            http.postJson("/api/v1/messages", push, Map.of("Authorization", "Bearer wrong-key")),
            http.postJson("/api/v1/messages", push, Map.of("Authorization", "Bearer shop-key")),
            http.postJson("/api/v1/messages", push.copy().put("from", "bank"), Map.of("Authorization", "Bearer shop-key")),
            http.postJson("/api/v1/messages", push.copy().put("from", "billing"), Map.of("Authorization", "Bearer ops-key")),
            http.get("/api/v1/users/frank/presence"),
            http.get("/health")))
        .compose(all -> connect(vertx, "token=" + token("frank", 600))
            .compose(frank -> frank.expect("message", 2))
            .map(messages -> {
              ctx.verify(() -> {
                int[] expected = {401, 401, 202, 403, 202, 401, 200};
                for (int i = 0; i < expected.length; i++) {
                  assertEquals(expected[i], all.<Http.Response>resultAt(i).status(), "request " + i);
                }
                assertEquals("unauthorized", all.<Http.Response>resultAt(0).json().getString("error"));
                assertEquals("forbidden", all.<Http.Response>resultAt(3).json().getString("error"));
                // The two accepted pushes went at once, on connections of their own: either may be stored first.
                assertEquals(List.of("billing", "shop"),
                    messages.stream().map(m -> m.getString("from")).sorted().toList());
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("insecure mode refuses to start on a non-loopback address unless explicitly forced")
  void insecureModeStaysOnLoopback(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dataDir.resolve("insecure"), new JsonObject().put("gateway", new JsonObject().put("host", "0.0.0.0")))
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertTrue(e.getMessage().contains("auth.insecureOnPublicAddress"), e.getMessage());
          ctx.completeNow();
        })));
  }
}
