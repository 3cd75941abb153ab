package dev.switchboard.security;

import dev.switchboard.support.TestServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
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

  @Test
  @DisplayName("with tls.enabled the gateway speaks wss:// and the push API https://")
  void tlsEndToEnd(Vertx vertx, VertxTestContext ctx) {
    JsonObject tls = new JsonObject().put("tls", new JsonObject().put("enabled", true)
        .put("keyStore", keyStore.toString()).put("keyStorePassword", PASSWORD));
    TestServer.start(vertx, dir.resolve("data"), tls).compose(server -> {
      // The test trusts its own throw-away certificate; real clients verify a real one.
      WebSocketClientOptions wsOptions = new WebSocketClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false);
      WebSocketConnectOptions connect = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.gatewayPort())
          .setURI("/ws?user=tina&device=d").addSubProtocol("switchboard.v1").setSsl(true);
      return WsClient.connect(vertx, wsOptions, connect)
          .compose(tina -> tina.expect("synced")
              .compose(synced -> vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false))
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
}
