package dev.switchboard.support;

import com.hazelcast.config.Config;
import dev.switchboard.ClusterConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Clustered Vert.x members in this JVM for one test, registered with {@code @RegisterExtension}:
 * each runs the production Hazelcast config on a cluster name and port range of the test's own, so
 * members of other tests on this machine never join, and all are closed after the test (after its
 * own {@code @AfterEach} methods, which may still need them).
 */
public final class TestCluster implements AfterEachCallback {

  private final int base = 20_000 + ThreadLocalRandom.current().nextInt(400) * 100;
  private final String name;
  /** How many ports from the base the join list names: a member tries to join each of them. */
  private final int ports;
  private final List<Vertx> members = new ArrayList<>();

  /** For up to four members; {@code prefix} names the test in the cluster name, which ends with the port base. */
  public TestCluster(String prefix) {
    this(prefix, 4);
  }

  /** For up to {@code ports} members: a lone member does not wait for others it tries to join. */
  public TestCluster(String prefix, int ports) {
    this.name = prefix + "-" + base;
    this.ports = ports;
  }

  /** A new clustered Vert.x that joins the others, started from the test thread (not another instance's context). */
  public Vertx member() throws Exception {
    Config config = ClusterConfig.load().setClusterName(name);
    config.getNetworkConfig().setPort(base).setPortAutoIncrement(true);
    config.getNetworkConfig().getJoin().getTcpIpConfig()
        .setMembers(IntStream.range(base, base + ports).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.toList()));
    Vertx member = Vertx.builder().withClusterManager(new HazelcastClusterManager(config)).buildClustered()
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    members.add(member);
    return member;
  }

  /**
   * Switchboard on {@code member}, with {@code overrides} merged in; its inbox is an embedded store
   * of its own in {@code dataDir}, which a cluster test on one machine may use.
   */
  public static TestServer node(Vertx member, Path dataDir, JsonObject overrides) throws Exception {
    JsonObject config = new JsonObject().put("inbox", new JsonObject().put("allowEmbeddedInCluster", true))
        .mergeIn(overrides, true);
    return TestServer.start(member, dataDir, config).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    for (Vertx member : members) {
      member.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    members.clear();
  }
}
