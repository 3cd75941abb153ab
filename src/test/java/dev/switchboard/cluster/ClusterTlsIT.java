package dev.switchboard.cluster;

import com.hazelcast.config.Config;
import dev.switchboard.ClusterConfig;
import dev.switchboard.bus.Addresses;
import dev.switchboard.support.Http;
import dev.switchboard.support.ProcessServer;
import dev.switchboard.support.PublisherExample;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes in two JVMs whose event bus runs over TLS with client certificates
 * ({@code cluster.eventBusTls}), with a CA, trust store and key stores made for this test by the JDK's
 * keytool as docs/security.md shows:
 * messages and pushes cross between them, and a member that joins the Hazelcast cluster without
 * a certificate cannot push through them.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class ClusterTlsIT {

  static final String PASSWORD = "changeit";

  @TempDir
  static Path dir;
  static int base;
  static Path trustStorePath;
  static Path publisherKeyStore;
  static List<String> clusterProperties;
  static final List<ProcessServer> nodes = new ArrayList<>();
  static Vertx stranger;

  @BeforeAll
  static void startCluster() throws Exception {
    // docs/security.md's recipe: a cluster CA, a trust store holding it, a key store per member
    // with a certificate the CA signed.
    Path ca = dir.resolve("ca.p12");
    Path caCertificate = dir.resolve("ca.crt");
    Path trustStore = dir.resolve("cluster-trust.p12");
    keytool("-genkeypair", "-alias", "cluster-ca", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=switchboard cluster CA", "-ext", "bc:c", "-validity", "2", "-storetype", "PKCS12",
        "-keystore", ca.toString(), "-storepass", PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", "cluster-ca", "-keystore", ca.toString(), "-storepass", PASSWORD,
        "-file", caCertificate.toString());
    keytool("-importcert", "-noprompt", "-alias", "cluster-ca", "-file", caCertificate.toString(),
        "-storetype", "PKCS12", "-keystore", trustStore.toString(), "-storepass", PASSWORD);
    List<Path> keyStores = new ArrayList<>();
    for (String member : List.of("node0", "node1", "billing")) {
      Path keyStore = dir.resolve(member + ".p12");
      Path request = dir.resolve(member + ".csr");
      Path certificate = dir.resolve(member + ".crt");
      keytool("-genkeypair", "-alias", "member", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + member,
          "-validity", "2", "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", PASSWORD);
      keytool("-certreq", "-alias", "member", "-keystore", keyStore.toString(), "-storepass", PASSWORD,
          "-file", request.toString());
      keytool("-gencert", "-rfc", "-alias", "cluster-ca", "-keystore", ca.toString(), "-storepass", PASSWORD,
          "-infile", request.toString(), "-outfile", certificate.toString(),
          "-ext", "ku:c=digitalSignature", "-ext", "eku=serverAuth,clientAuth", "-validity", "2");
      keytool("-importcert", "-noprompt", "-alias", "cluster-ca", "-file", caCertificate.toString(),
          "-keystore", keyStore.toString(), "-storepass", PASSWORD);
      keytool("-importcert", "-alias", "member", "-file", certificate.toString(),
          "-keystore", keyStore.toString(), "-storepass", PASSWORD);
      keyStores.add(keyStore);
    }
    trustStorePath = trustStore;
    publisherKeyStore = keyStores.get(2);

    base = 20_000 + ThreadLocalRandom.current().nextInt(400) * 100;
    List<String> properties = clusterProperties = List.of("-Dswitchboard.cluster.name=tls-it-" + base,
        "-Dswitchboard.cluster.port=" + base, "-Dswitchboard.cluster.members=" + members());
    List<CompletableFuture<ProcessServer>> starting = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Path data = dir.resolve("node" + i);
      JsonObject conf = new JsonObject()
          .put("inbox", new JsonObject().put("allowEmbeddedInCluster", true))
          .put("cluster", new JsonObject().put("eventBusTls", true)
              .put("keyStore", keyStores.get(i).toString()).put("keyStorePassword", PASSWORD)
              .put("trustStore", trustStore.toString()).put("trustStorePassword", PASSWORD));
      starting.add(CompletableFuture.supplyAsync(() -> {
        try {
          return ProcessServer.start(data, conf, properties, List.of("-cluster"));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    for (CompletableFuture<ProcessServer> node : starting) {
      nodes.add(node.get(120, TimeUnit.SECONDS));
    }
  }

  static String members() {
    return IntStream.range(base, base + 4).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
  }

  static void keytool(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), output);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (stranger != null) {
      stranger.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    for (ProcessServer node : nodes) {
      node.close();
    }
  }

  @Test
  @DisplayName("ExamplePublisher with a certificate and the cluster.* settings in its environment pushes over TLS")
  void publisherWithCertificate(Vertx vertx, VertxTestContext ctx) throws Exception {
    WsClient carol = online(vertx, nodes.get(1), "carol").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Future<JsonObject> received = carol.expect("message");
    ProcessBuilder publisher = new ProcessBuilder(PublisherExample.command(clusterProperties)).redirectErrorStream(true);
    publisher.command().addAll(List.of("carol", "from the billing service", "billing"));
    publisher.environment().putAll(Map.of(
        "SWITCHBOARD_CLUSTER_EVENT_BUS_TLS", "true",
        "SWITCHBOARD_CLUSTER_KEY_STORE", publisherKeyStore.toString(),
        "SWITCHBOARD_CLUSTER_KEY_STORE_PASSWORD", PASSWORD,
        "SWITCHBOARD_CLUSTER_TRUST_STORE", trustStorePath.toString(),
        "SWITCHBOARD_CLUSTER_TRUST_STORE_PASSWORD", PASSWORD));
    Process running = publisher.start();
    String output = new String(running.getInputStream().readAllBytes());
    assertTrue(running.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, running.exitValue(), output);
    assertTrue(output.contains("stored: "), output);
    received.onComplete(ctx.succeeding(message -> ctx.verify(() -> {
      assertEquals("from the billing service", message.getString("body"));
      assertEquals("billing", message.getString("from"));
      assertTrue(message.getBoolean("push"));
      ctx.completeNow();
    })));
  }

  static Future<WsClient> online(Vertx vertx, ProcessServer node, String user) {
    return WsClient.connect(vertx, node.gatewayPort(), "/ws?user=" + user + "&device=d", true)
        .compose(c -> c.expect("synced").map(c));
  }

  @Test
  @DisplayName("with cluster.eventBusTls nodes deliver to each other; a member without a certificate cannot push")
  void tlsBetweenNodes(Vertx vertx, VertxTestContext ctx) throws Exception {
    // A plain member (no certificate) of the same Hazelcast cluster: it sees the nodes'
    // switchboard.push consumers, but its connections to their event-bus ports fail the handshake.
    Config config = ClusterConfig.load().setClusterName("tls-it-" + base);
    config.getNetworkConfig().setPort(base).setPortAutoIncrement(true);
    config.getNetworkConfig().getJoin().getTcpIpConfig().setMembers(List.of(members().split(",")));
    stranger = Vertx.builder().withClusterManager(new HazelcastClusterManager(config)).buildClustered()
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

    Future.all(online(vertx, nodes.get(0), "alice"), online(vertx, nodes.get(1), "bob")).compose(both -> {
      WsClient alice = both.resultAt(0);
      WsClient bob = both.resultAt(1);
      List<JsonObject> bobGot = new ArrayList<>();
      return stranger.eventBus().request(Addresses.PUSH,
              new JsonObject().put("to", "bob").put("body", "from a stranger").put("from", "alice"),
              new DeliveryOptions().setSendTimeout(5_000))
          .transform(done -> Future.succeededFuture(done.succeeded()))
          .compose(strangerStored -> alice.sendMessage("1", "bob", "over TLS")
              .compose(v -> alice.expect("accepted"))
              .compose(accepted -> bob.expect("message"))
              .compose(message -> {
                bobGot.add(message);
                return new Http(vertx, nodes.get(1).pushPort()).postJson("/api/v1/messages",
                    new JsonObject().put("to", "alice").put("body", "pushed on node 1"));
              })
              .compose(pushed -> alice.expect("message"))
              .map(pushedToAlice -> {
                ctx.verify(() -> {
                  assertFalse(strangerStored, "a member without a certificate pushed through a node");
                  assertEquals("over TLS", bobGot.get(0).getString("body"));
                  assertEquals("pushed on node 1", pushedToAlice.getString("body"));
                  assertTrue(pushedToAlice.getBoolean("push"));
                });
                return null;
              }));
    }).onComplete(ctx.succeedingThenComplete());
  }
}
