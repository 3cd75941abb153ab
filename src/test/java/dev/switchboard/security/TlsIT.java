package dev.switchboard.security;

import dev.switchboard.support.HeldClients;
import dev.switchboard.support.SlowClient;
import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Vert.x's own TLS, with a self-signed certificate made by the JDK's keytool for this test. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
class TlsIT {

  static final String PASSWORD = "changeit";

  @TempDir
  static Path dir;
  static Path keyStore;

  @BeforeAll
  static void makeCertificate() throws Exception {
    keyStore = dir.resolve("server.p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "switchboard", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
        "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD)
        .redirectErrorStream(true).start();
    assertEquals(0, p.waitFor(), new String(p.getInputStream().readAllBytes()));
  }

  static JsonObject tls() {
    return new JsonObject().put("enabled", true).put("keyStore", keyStore.toString()).put("keyStorePassword", PASSWORD);
  }

  @Test
  @DisplayName("with tls.enabled the gateway speaks wss:// and the push API https://")
  void tlsEndToEnd(Vertx vertx, VertxTestContext ctx) {
    TestServer.start(vertx, dir.resolve("data"), new JsonObject().put("tls", tls())).compose(server -> {
      // The test trusts its own throw-away certificate; real clients verify a real one.
      WebSocketClientOptions wsOptions = new WebSocketClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false);
      WebSocketConnectOptions connect = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.gatewayPort())
          .setURI("/ws?user=tina&device=d").addSubProtocol("switchboard.v1").setSsl(true);
      return WsClient.connect(vertx, wsOptions, connect)
          .compose(tina -> tina.expect("synced")
              .compose(synced -> HeldClients.hold(vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false)))
                  .request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(server.pushPort())
                      .setURI("/api/v1/messages").addHeader("Content-Type", "application/json"))
                  .compose(req -> req.send(new JsonObject().put("to", "tina").put("body", "over TLS").encode()))
                  .map(resp -> resp.statusCode()))
              .compose(status -> tina.expect("message").map(message -> {
                ctx.verify(() -> {
                  assertEquals(202, status);
                  assertEquals("over TLS", message.getString("body"));
                });
                return null;
              })));
    }).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("over TLS, gateway.handshakeTimeoutSeconds bounds the TLS handshake and then the first request")
  void handshakeTimeout(Vertx vertx, VertxTestContext ctx) {
    long timeout = 1000;
    long limit = timeout + 1500;
    JsonObject config = new JsonObject().put("tls", tls())
        .put("gateway", new JsonObject().put("handshakeTimeoutSeconds", timeout / 1000));
    TestServer.start(vertx, dir.resolve("data-deadline"), config).compose(server -> {
      // Connects and never starts TLS.
      Future<SlowClient.Closed> silent = SlowClient.silent(vertx, server.gatewayPort(), limit);
      // Completes TLS, then sends its request a byte every 300 ms.
      NetClientOptions tlsClient = new NetClientOptions().setSsl(true).setTrustAll(true).setHostnameVerificationAlgorithm("");
      Future<SlowClient.Closed> slow = SlowClient.dribble(vertx, tlsClient, server.gatewayPort(), "GET /ws?user=slow HTT",
          "P/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n", 300, limit);
      return Future.all(silent, slow).map(both -> {
        ctx.verify(() -> {
          assertTrue(silent.result().afterMillis() >= timeout - 100, "closed after " + silent.result().afterMillis() + " ms");
          SlowClient.Closed closed = slow.result();
          assertTrue(closed.afterMillis() >= timeout - 100, "closed after " + closed.afterMillis() + " ms");
          assertTrue(closed.bytesSent() >= 23, "kept sending, " + closed.bytesSent() + " bytes");
          assertEquals(0, closed.received().length(), "closed without an answer, got: " + closed.received());
        });
        return null;
      });
    }).onComplete(ctx.succeedingThenComplete());
  }
}
