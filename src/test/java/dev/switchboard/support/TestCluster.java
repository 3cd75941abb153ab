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

  /** Members the join list names: the tests start at most this many. */
  private static final int MEMBERS = 4;

  private final int base = 20_000 + ThreadLocalRandom.current().nextInt(400) * 100;
  private final String name;
  private final List<Vertx> members = new ArrayList<>();

  /** {@code prefix} names the test in the cluster name, which ends with the port base. */
  public TestCluster(String prefix) {
    this.name = prefix + "-" + base;
  }

  /** A new clustered Vert.x that joins the others, started from the test thread (not another instance's context). */
  public Vertx member() throws Exception {
    Config config = ClusterConfig.load().setClusterName(name);
    config.getNetworkConfig().setPort(base).setPortAutoIncrement(true);
    config.getNetworkConfig().getJoin().getTcpIpConfig()
        .setMembers(IntStream.range(base, base + MEMBERS).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.toList()));
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
