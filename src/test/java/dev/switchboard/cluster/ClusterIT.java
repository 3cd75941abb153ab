package dev.switchboard.cluster;

import dev.switchboard.support.Http;
import dev.switchboard.support.ProcessServer;
import dev.switchboard.support.PublisherExample;
import dev.switchboard.support.TestPostgres;
import dev.switchboard.support.WsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three Switchboard nodes in three JVMs, clustered over Hazelcast on loopback, sharing two real
 * PostgreSQL shards: cross-node delivery, presence, an outside publisher, and nodes killed or stopped.
 * The three nodes stay up for every test: a test that kills or stops a node starts its own, and
 * each test has users of its own, so the tests run in any order.
 */
@ExtendWith({VertxExtension.class, TestPostgres.Extension.class})
@Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
class ClusterIT {

  @TempDir
  static Path dataDir;

  /** Two shards (two databases of the tests' server): bob and carol on shard 0, alice and dave on shard 1. */
  static List<String> postgresUris;
  static List<String> clusterProperties;
  static final List<ProcessServer> nodes = new ArrayList<>();
  /** Nodes a test starts for itself, to kill or stop. */
  static final List<ProcessServer> ownNodes = new ArrayList<>();

  @BeforeAll
  static void startCluster(TestPostgres postgres) throws Exception {
    postgresUris = List.of(postgres.createDatabase(), postgres.createDatabase());
    // A port range of its own, so concurrent runs on one machine do not join each other.
    int base = 20_000 + ThreadLocalRandom.current().nextInt(400) * 100;
    // Room for the three nodes and one a test starts for itself.
    String members = java.util.stream.IntStream.range(base, base + 5).mapToObj(p -> "127.0.0.1:" + p)
        .collect(Collectors.joining(","));
    clusterProperties = List.of(
        "-Dswitchboard.cluster.name=it-" + base,
        "-Dswitchboard.cluster.port=" + base,
        "-Dswitchboard.cluster.members=" + members);
    List<CompletableFuture<ProcessServer>> starting = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path dir = dataDir.resolve("node" + i);
      starting.add(CompletableFuture.supplyAsync(() -> startNode(dir)));
    }
    for (CompletableFuture<ProcessServer> node : starting) {
      nodes.add(node.get(120, TimeUnit.SECONDS));
    }
  }

  static ProcessServer startNode(Path dir) {
    JsonObject conf = new JsonObject().put("inbox", new JsonObject()
            .put("engine", "postgres").put("postgresUris", new JsonArray(postgresUris)))
        .put("limits", new JsonObject().put("messagesPerSecond", 100_000).put("messageBurst", 100_000));
    try {
      return ProcessServer.start(dir, conf, clusterProperties, List.of("-cluster"));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (ProcessServer node : ownNodes) {
      node.close();
    }
    for (ProcessServer node : nodes) {
      node.close();
    }
  }

  /** A fourth node, joined to the cluster, for a test that takes it down. */
  static ProcessServer ownNode(String name) {
    ProcessServer node = startNode(dataDir.resolve(name));
    ownNodes.add(node);
    return node;
  }

  static Future<WsClient> online(Vertx vertx, ProcessServer node, String user, String device) {
    return WsClient.connect(vertx, node.gatewayPort(), "/ws?user=" + user + "&device=" + device, true)
        .compose(c -> c.expect("synced").map(c));
  }

  @Test
  @DisplayName("messages and pushes reach a user's sessions on other nodes; presence is cluster-wide")
  void crossNodeDelivery(Vertx vertx, VertxTestContext ctx) {
    Future.all(online(vertx, nodes.get(0), "alice", "laptop"), online(vertx, nodes.get(2), "bob", "phone"),
            online(vertx, nodes.get(1), "bob", "browser"))
        .compose(all -> {
          WsClient alice = all.resultAt(0);
          WsClient phone = all.resultAt(1);
          WsClient browser = all.resultAt(2);
          return alice.sendMessage("x1", "bob", "across the cluster")
              .compose(v -> alice.expect("accepted"))
              .compose(accepted -> Future.all(phone.expect("message"), browser.expect("message")).map(got -> {
                ctx.verify(() -> {
                  assertTrue(accepted.getBoolean("online"));
                  assertEquals("across the cluster", got.<JsonObject>resultAt(0).getString("body"));
                  assertEquals(got.<JsonObject>resultAt(0).getString("msgId"), got.<JsonObject>resultAt(1).getString("msgId"));
                });
                return null;
              }))
              .compose(v -> new Http(vertx, nodes.get(0).pushPort()).postJson("/api/v1/messages",
                  new JsonObject().put("to", "bob").put("body", "pushed on node 0")))
              .compose(pushed -> Future.all(phone.expect("message"), browser.expect("message")).map(pushed))
              .compose(pushed -> new Http(vertx, nodes.get(0).pushPort()).get("/api/v1/users/bob/presence")
                  .map(presence -> {
                    ctx.verify(() -> {
                      assertTrue(pushed.json().getJsonArray("results").getJsonObject(0).getBoolean("online"));
                      assertEquals(2, presence.json().getInteger("sessions"));
                    });
                    return null;
                  }))
              // Several recipients: the router looks them all up in one directory call.
              .compose(v -> new Http(vertx, nodes.get(1).pushPort()).postJson("/api/v1/messages",
                  new JsonObject().put("to", new JsonArray().add("alice").add("bob").add("nobody"))
                      .put("body", "to three")))
              .compose(pushed -> Future.all(alice.expect("message"), phone.expect("message"), browser.expect("message"))
                  .map(got -> {
                    ctx.verify(() -> {
                      JsonArray results = pushed.json().getJsonArray("results");
                      assertTrue(results.getJsonObject(0).getBoolean("online"));
                      assertTrue(results.getJsonObject(1).getBoolean("online"));
                      assertEquals(false, results.getJsonObject(2).getBoolean("online"));
                      for (int i = 0; i < 3; i++) {
                        assertEquals("to three", got.<JsonObject>resultAt(i).getString("body"));
                      }
                    });
                    return null;
                  }))
              .compose(v -> Future.all(alice.close(), phone.close(), browser.close()));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a signal reaches the recipient's sessions on other nodes and is not stored; a read receipt too, stored")
  void crossNodeSignalsAndReceipts(Vertx vertx, VertxTestContext ctx) {
    JsonObject typing = new JsonObject().put("type", "signal").put("to", "grace").put("kind", "typing")
        .put("data", new JsonObject().put("state", "on"));
    Future.all(online(vertx, nodes.get(0), "heidi", "laptop"), online(vertx, nodes.get(2), "grace", "phone"),
            online(vertx, nodes.get(1), "grace", "browser"))
        .compose(all -> {
          WsClient heidi = all.resultAt(0);
          WsClient phone = all.resultAt(1);
          WsClient browser = all.resultAt(2);
          return heidi.send(typing)
              .compose(v -> Future.all(phone.expect("signal"), browser.expect("signal")))
              .compose(got -> {
                ctx.verify(() -> {
                  assertEquals("heidi", got.<JsonObject>resultAt(0).getString("from"));
                  assertEquals(got.<JsonObject>resultAt(0), got.<JsonObject>resultAt(1));
                });
                return heidi.send(new JsonObject().put("type", "read").put("peer", "grace").put("upTo", "m-1"));
              })
              // The receipt is the first thing stored in grace's inbox: the signal before it was not.
              .compose(v -> Future.all(phone.expect("read"), browser.expect("read")))
              .map(got -> {
                ctx.verify(() -> {
                  assertEquals(1L, got.<JsonObject>resultAt(0).getLong("seq"));
                  assertEquals("heidi", got.<JsonObject>resultAt(1).getString("by"));
                });
                return null;
              })
              .compose(v -> Future.all(heidi.close(), phone.close(), browser.close()));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a separate JVM joining the cluster as a plain Vert.x member pushes through switchboard.push")
  void outsidePublisher(Vertx vertx, VertxTestContext ctx) throws Exception {
    WsClient erin = online(vertx, nodes.get(1), "erin", "phone").toCompletionStage().toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    Future<JsonObject> received = erin.expect("message");
    List<String> command = PublisherExample.command(clusterProperties);
    command.addAll(List.of("erin", "from the billing service", "billing"));
    Process publisher = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(publisher.getInputStream(), StandardCharsets.UTF_8))) {
      output = in.lines().collect(Collectors.joining("\n"));
    }
    assertTrue(publisher.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, publisher.exitValue(), output);
    assertTrue(output.contains("\"online\":true"), output);
    received.onComplete(ctx.succeeding(message -> ctx.verify(() -> {
      assertEquals("from the billing service", message.getString("body"));
      assertEquals("billing", message.getString("from"));
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("when a node is killed, its clients reconnect elsewhere and receive every accepted message")
  void killedNode(Vertx vertx, VertxTestContext ctx) throws Exception {
    int total = 200;
    ProcessServer doomed = ownNode("killed");
    List<JsonObject> received = new ArrayList<>();
    long[] lastSeq = {0};
    WsClient carol = online(vertx, doomed, "carol", "phone").toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    WsClient dave = online(vertx, nodes.get(0), "dave", "laptop").toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);

    // Dave streams messages; carol's node dies in the middle; carol comes back on another node
    // after the last seq she saw, as a real client does, and must end up with all of them.
    List<JsonObject> acks = new ArrayList<>();
    sendAll(dave, "carol", 0, total / 2, acks)
        .compose(v -> collect(carol, received, lastSeq, total / 8))
        .compose(v -> vertx.executeBlocking(() -> {
          doomed.kill();
          return null;
        }))
        .compose(v -> sendAll(dave, "carol", total / 2, total, acks))
        .compose(v -> WsClient.connect(vertx, nodes.get(1).gatewayPort(),
            "/ws?user=carol&device=phone&since=" + lastSeq[0], true))
        .compose(again -> collect(again, received, lastSeq, total))
        .map(v -> acks)
        .onComplete(ctx.succeeding(accepted -> ctx.verify(() -> {
          assertEquals(total, accepted.size());
          for (int i = 0; i < total; i++) {
            assertEquals(i + 1L, received.get(i).getLong("seq"));
            assertEquals("m" + i, received.get(i).getString("body"));
          }
          ctx.completeNow();
        })));
  }

  /** Sends messages {@code from..to-1} pipelined and waits until all are accepted. */
  private static Future<List<JsonObject>> sendAll(WsClient sender, String to, int from, int until, List<JsonObject> acks) {
    for (int i = from; i < until; i++) {
      sender.sendMessage("k" + i, to, "m" + i);
    }
    return takeAccepted(sender, acks, until);
  }

  private static Future<List<JsonObject>> takeAccepted(WsClient client, List<JsonObject> into, int n) {
    if (into.size() == n) {
      return Future.succeededFuture(into);
    }
    return client.expect("accepted").compose(a -> {
      into.add(a);
      return takeAccepted(client, into, n);
    });
  }

  /** Takes message frames until {@code until} distinct seqs were received, dropping repeats by seq. */
  private static Future<Void> collect(WsClient client, List<JsonObject> into, long[] lastSeq, int until) {
    if (into.size() >= until) {
      return Future.succeededFuture();
    }
    return client.nextJson().compose(frame -> {
      if ("message".equals(frame.getString("type")) && frame.getLong("seq") > lastSeq[0]) {
        into.add(frame);
        lastSeq[0] = frame.getLong("seq");
      }
      return collect(client, into, lastSeq, until);
    });
  }

  @Test
  @DisplayName("a node stopped with SIGTERM closes its sockets with 1012, and its clients lose nothing")
  void gracefulStop(Vertx vertx, VertxTestContext ctx) throws Exception {
    ProcessServer leaving = ownNode("stopped");
    WsClient frank = online(vertx, leaving, "frank", "phone").toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    Future<Short> closeCode = frank.closed();
    vertx.executeBlocking(() -> leaving.terminate())
        .compose(exit -> closeCode)
        .compose(code -> {
          ctx.verify(() -> assertEquals((short) 1012, code));
          return new Http(vertx, nodes.get(0).pushPort()).postJson("/api/v1/messages",
              new JsonObject().put("to", new JsonArray().add("frank")).put("body", "while you moved"));
        })
        .compose(pushed -> WsClient.connect(vertx, nodes.get(0).gatewayPort(), "/ws?user=frank&device=phone", true))
        .compose(again -> again.expect("message"))
        .onComplete(ctx.succeeding(message -> ctx.verify(() -> {
          assertEquals("while you moved", message.getString("body"));
          ctx.completeNow();
        })));
  }
}
