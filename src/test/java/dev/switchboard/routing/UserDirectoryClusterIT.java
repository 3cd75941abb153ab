package dev.switchboard.routing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.hazelcast.config.Config;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.map.IMap;
import dev.switchboard.ClusterConfig;
import dev.switchboard.bus.Addresses;
import dev.switchboard.bus.NodeKey;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster directory on a real Hazelcast cluster: two clustered Vert.x instances in this JVM,
 * on loopback, with the production Hazelcast config on a port range and cluster name of their own.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
class UserDirectoryClusterIT {

  private static final String NODE_KEY = "directory-it-node-key";

  private final List<Vertx> members = new ArrayList<>();
  private final List<HazelcastClusterManager> managers = new ArrayList<>();
  private int base;

  @BeforeEach
  void pickPorts() {
    base = 20_000 + ThreadLocalRandom.current().nextInt(400) * 100;
  }

  @AfterEach
  void stop() throws Exception {
    for (Vertx member : members) {
      member.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** A clustered Vert.x, started from the test thread, its directory replica deployed, and its directory. */
  private UserDirectory member() throws Exception {
    return member(ClusterConfig.load());
  }

  private UserDirectory member(Config config) throws Exception {
    return member(config, 10_000);
  }

  /** A member that waits only {@code 500} ms for the other nodes to take its changes in. */
  private UserDirectory impatientMember() throws Exception {
    return member(ClusterConfig.load(), 500);
  }

  private UserDirectory member(Config config, long directoryTimeoutMillis) throws Exception {
    UserDirectory directory = plainMember(config);
    Vertx member = members.get(members.size() - 1);
    member.deployVerticle(new DirectoryReplicaVerticle(NODE_KEY, true, directoryTimeoutMillis))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return directory;
  }

  /** A clustered Vert.x without the directory replica: as a back end joins, or a node still starting. */
  private UserDirectory plainMember(Config config) throws Exception {
    config.setClusterName("directory-it-" + base);
    config.getNetworkConfig().setPort(base).setPortAutoIncrement(true);
    config.getNetworkConfig().getJoin().getTcpIpConfig().setMembers(IntStream.range(base, base + 4)
        .mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.toList()));
    HazelcastClusterManager manager = new HazelcastClusterManager(config);
    Vertx member = Vertx.builder().withClusterManager(manager).buildClustered()
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    members.add(member);
    managers.add(manager);
    return UserDirectory.create(member);
  }

  @Test
  @DisplayName("joins on two nodes count in one entry that both see; concurrent joins from both never pass the "
      + "limit; leaves lower the count; a lookup of many users finds each one's nodes")
  void joinsAndLeavesOnTwoNodes(VertxTestContext ctx) throws Exception {
    UserDirectory a = member();
    UserDirectory b = member();
    assertInstanceOf(HazelcastUserDirectory.class, a);
    List<Future<Boolean>> joins = new ArrayList<>();
    for (int i = 0; i < 15; i++) {
      joins.add(a.join("ivy", 20));
      joins.add(b.join("ivy", 20));
    }
    Future.all(joins)
        .compose(all -> {
          long counted = joins.stream().filter(Future::result).count();
          ctx.verify(() -> assertEquals(20, counted));
          return b.sessionsByNode("ivy");
        })
        .compose(ivy -> {
          ctx.verify(() -> {
            assertEquals(20, ivy.values().stream().mapToInt(Integer::intValue).sum(), ivy.toString());
            assertEquals(java.util.Set.of(a.localNode(), b.localNode()), ivy.keySet());
          });
          return Future.all(a.leave("ivy"), b.leave("ivy"), a.join("ann", 5), b.join("bob", 5), b.join("bob", 5));
        })
        .compose(changed -> b.sessionsByNode(List.of()))
        .compose(none -> {
          ctx.verify(() -> assertTrue(none.isEmpty()));
          return a.sessionsByNode(List.of("ivy", "ann", "bob", "nobody"));
        })
        .onComplete(ctx.succeeding(found -> ctx.verify(() -> {
          assertEquals(18, found.get("ivy").values().stream().mapToInt(Integer::intValue).sum());
          assertEquals(Map.of(a.localNode(), 1), found.get("ann"));
          assertEquals(Map.of(b.localNode(), 2), found.get("bob"));
          assertFalse(found.containsKey("nobody"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("lookups read the node's replica, without a round trip: a session joined on one node is found on every "
      + "other node as soon as the join completes, a leave as soon as it completes, and a node started later finds "
      + "the sessions already held")
  void lookupsReadTheReplica() throws Exception {
    UserDirectory a = member();
    UserDirectory b = member();
    UserDirectory c = member();
    await(Future.all(b.join("ann", 5), b.join("ann", 5), c.join("ann", 5)));
    Map<String, Integer> held = Map.of(b.localNode(), 2, c.localNode(), 1);
    assertEquals(Map.of("ann", held), answeredAtOnce(a.sessionsByNode(List.of("ann", "nobody"))));
    assertEquals(held, answeredAtOnce(b.sessionsByNode("ann")));
    await(b.leave("ann"));
    assertEquals(Map.of(b.localNode(), 1, c.localNode(), 1), answeredAtOnce(a.sessionsByNode("ann")));
    UserDirectory d = member();
    assertEquals(Map.of(b.localNode(), 1, c.localNode(), 1), answeredAtOnce(d.sessionsByNode("ann")));
    await(d.join("ann", 5));
    assertEquals(Map.of(b.localNode(), 1, c.localNode(), 1, d.localNode(), 1), answeredAtOnce(a.sessionsByNode("ann")));
    await(Future.all(b.leave("ann"), c.leave("ann"), d.leave("ann")));
    assertEquals(Map.of(), answeredAtOnce(a.sessionsByNode(List.of("ann"))));
  }

  @Test
  @DisplayName("changes made while one is on its way to a peer go there together: a burst of joins costs the peer "
      + "a few requests, and each join completes once the peer holds it")
  void burstsOfChangesTravelTogether() throws Exception {
    UserDirectory a = member();
    UserDirectory b = member();
    AtomicInteger requests = new AtomicInteger();
    String changes = Addresses.directory(a.localNode());
    members.get(0).eventBus().addInboundInterceptor(delivery -> {
      if (changes.equals(delivery.message().address())) {
        requests.incrementAndGet();
      }
      delivery.next();
    });
    List<String> users = IntStream.range(0, 200).mapToObj(i -> "burst" + i).toList();
    await(Future.all(users.stream().map(user -> b.join(user, 5)).toList()));
    Map<String, Map<String, Integer>> found = answeredAtOnce(a.sessionsByNode(users));
    assertEquals(users.size(), found.size());
    assertTrue(requests.get() < users.size() / 4, requests.get() + " requests for " + users.size() + " joins");
  }

  @Test
  @DisplayName("a member that is not a Switchboard node (a back end on the event bus) is neither waited for nor told")
  void backEndsAreNotPeers() throws Exception {
    plainMember(ClusterConfig.load());
    // Were the back end waited for, this start would fail after its 10 s.
    UserDirectory a = member();
    UserDirectory b = member();
    assertTrue(await(a.join("ann", 5)));
    assertEquals(Map.of(a.localNode(), 1), answeredAtOnce(b.sessionsByNode("ann")));
  }

  @Test
  @DisplayName("two nodes whose replicas start together become peers both ways: each finds the other's sessions at once")
  void startingTogether() throws Exception {
    UserDirectory a = plainMember(ClusterConfig.load());
    UserDirectory b = plainMember(ClusterConfig.load());
    await(Future.all(members.stream()
        .map(member -> member.deployVerticle(new DirectoryReplicaVerticle(NODE_KEY, true, 10_000))).toList()));
    assertTrue(await(a.join("ann", 5)));
    assertTrue(await(b.join("bob", 5)));
    assertEquals(Map.of("ann", Map.of(a.localNode(), 1), "bob", Map.of(b.localNode(), 1)),
        answeredAtOnce(b.sessionsByNode(List.of("ann", "bob"))));
    assertEquals(Map.of("ann", Map.of(a.localNode(), 1), "bob", Map.of(b.localNode(), 1)),
        answeredAtOnce(a.sessionsByNode(List.of("ann", "bob"))));
  }

  @Test
  @DisplayName("a session that a node cannot get every other node to take in within the timeout is refused and not "
      + "counted: not found by lookups, and the map's count repaired to the sessions held")
  void joinNotTakenInIsRefused() throws Exception {
    UserDirectory a = impatientMember();
    member();
    // b's replica stops while b stays a member: a's changes find no consumer there.
    Vertx b = members.get(1);
    await(b.undeploy(b.deploymentIDs().iterator().next()));
    Future<Boolean> join = a.join("ann", 5);
    assertThrows(ExecutionException.class, () -> await(join));
    assertEquals(Map.of(), answeredAtOnce(a.sessionsByNode("ann")));
    ((HazelcastUserDirectory) a).repair();
    await(untilSessions(a, "ann", 0));
  }

  @Test
  @DisplayName("a leave that a peer does not take in within the timeout is told to it again by the next repair once "
      + "it answers: the peer stops counting the session, and the leave completes as one that will be repaired")
  void leaveNotTakenInIsToldAgain() throws Exception {
    UserDirectory a = impatientMember();
    UserDirectory b = member();
    assertTrue(await(a.join("ann", 5)));
    assertEquals(Map.of(a.localNode(), 1), answeredAtOnce(b.sessionsByNode("ann")));
    Gate toB = gate(1, b, 0);
    Future<Void> leave = a.leave("ann");
    await(leave.transform(left -> Future.succeededFuture()));
    await(until(() -> toB.dropped.get() > 0));
    assertEquals(Map.of(a.localNode(), 1), answeredAtOnce(b.sessionsByNode("ann")), "b took the leave in after all");
    toB.open();
    await(until(() -> {
      a.repair(); // as the gateway's heartbeat does
      return answeredAtOnce(b.sessionsByNode("ann")).isEmpty();
    }));
    assertTrue(leave.succeeded(), () -> "the leave failed: " + leave.cause());
  }

  @Test
  @DisplayName("a refused join that a peer took in, and whose withdrawal it then missed, is withdrawn there by the "
      + "next repair once it answers")
  void withdrawalNotTakenInIsToldAgain() throws Exception {
    UserDirectory a = impatientMember();
    UserDirectory b = member();
    UserDirectory c = member();
    // b takes the join in and misses what follows; c answers nothing, so the join is refused.
    Gate toB = gate(1, b, 1);
    Gate toC = gate(2, c, 0);
    assertThrows(ExecutionException.class, () -> await(a.join("ann", 5)));
    await(until(() -> toB.dropped.get() > 0 && toC.dropped.get() > 1));
    assertEquals(Map.of(a.localNode(), 1), answeredAtOnce(b.sessionsByNode("ann")), "b took the withdrawal in");
    toB.open();
    toC.open();
    await(until(() -> {
      a.repair();
      return answeredAtOnce(b.sessionsByNode("ann")).isEmpty() && answeredAtOnce(c.sessionsByNode("ann")).isEmpty();
    }));
  }

  @Test
  @DisplayName("a peer that stays in the cluster but answers nothing costs a bounded number of WARN lines, not one "
      + "per user: the leaves it misses, the joins refused for it and the repairs that tell it again are counted "
      + "in a line per kind, each user at DEBUG; once it answers, the repair tells it every count it missed")
  void aSilentPeerDoesNotFloodTheLog() throws Exception {
    UserDirectory a = impatientMember();
    UserDirectory b = member();
    List<String> staying = IntStream.range(0, 50).mapToObj(i -> "staying" + i).toList();
    List<String> leaving = IntStream.range(0, 50).mapToObj(i -> "leaving" + i).toList();
    List<String> refused = IntStream.range(0, 50).mapToObj(i -> "refused" + i).toList();
    await(Future.all(Stream.concat(staying.stream(), leaving.stream())
        .map(user -> a.join(user, 5)).toList()));
    try (Logged logged = new Logged(HazelcastUserDirectory.class)) {
      Gate toB = gate(1, b, 0);
      await(Future.all(leaving.stream().map(a::leave).toList()));
      await(Future.join(refused.stream().map(user -> a.join(user, 5)).toList()).transform(done -> Future.succeededFuture()));
      await(until(() -> {
        a.repair(); // as the gateway's heartbeat does, while b answers nothing
        return toB.dropped.get() > 6;
      }));
      toB.open();
      await(until(() -> {
        a.repair();
        Map<String, Map<String, Integer>> held = answeredAtOnce(b.sessionsByNode(
            Stream.of(staying, leaving, refused).flatMap(List::stream).toList()));
        return held.keySet().equals(Set.copyOf(staying));
      }));
      List<String> warnings = logged.lines(Level.WARN);
      // A line per kind in play (counts not taken in, joins refused); two should the run outlast the interval.
      assertTrue(warnings.size() <= 4, warnings.size() + " WARN lines for " + (leaving.size() + refused.size())
          + " users: " + warnings.stream().limit(5).toList());
      assertTrue(warnings.stream().anyMatch(line -> line.contains("not taken in by every node")), warnings.toString());
      assertTrue(logged.lines(Level.DEBUG).stream().anyMatch(line -> line.contains("leaving7")),
          "no DEBUG line names a user whose leave was missed");
      List<String> repaired = logged.lines(Level.INFO).stream()
          .filter(line -> line.contains("again")).toList();
      assertFalse(repaired.isEmpty(), "no line says every node holds the counts again");
      assertTrue(repaired.size() < leaving.size() / 4, repaired.size() + " INFO lines: " + repaired.stream().limit(5).toList());
    }
  }

  /** What one logger writes while open, DEBUG and up, kept from the console. */
  private static final class Logged implements AutoCloseable {

    private final Logger logger;
    private final Level level;
    private final boolean additive;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    Logged(Class<?> source) {
      logger = (Logger) LoggerFactory.getLogger(source);
      level = logger.getLevel();
      additive = logger.isAdditive();
      appender.start();
      logger.addAppender(appender);
      logger.setLevel(Level.DEBUG);
      logger.setAdditive(false);
    }

    /** The lines logged at exactly {@code level} so far. */
    List<String> lines(Level level) {
      synchronized (appender) { // the appender adds under its own lock
        return appender.list.stream().filter(event -> event.getLevel() == level)
            .map(ILoggingEvent::getFormattedMessage).toList();
      }
    }

    @Override
    public void close() {
      logger.detachAppender(appender);
      logger.setLevel(level);
      logger.setAdditive(additive);
    }
  }

  @Test
  @DisplayName("a directory made by a verticle leaves no departure listener behind once its changes are done: "
      + "deploying and undeploying such a verticle again and again does not grow the node's listeners")
  void directoriesLeaveNoListenersBehind() throws Exception {
    member();
    UserDirectory b = member();
    Vertx a = members.get(0);
    for (int i = 0; i < 5; i++) {
      String deployment = await(a.deployVerticle(new SessionHolder("ann")));
      assertEquals(1, answeredAtOnce(b.sessionsByNode("ann")).size());
      await(a.undeploy(deployment));
      assertTrue(answeredAtOnce(b.sessionsByNode("ann")).isEmpty());
    }
    DirectoryPeers peers = DirectoryPeers.of(a);
    assertTrue(peers.departureListeners() <= 1, peers.departureListeners() + " departure listeners after 5 deployments");
  }

  @Test
  @DisplayName("changes waiting for a peer that dies are done when the cluster drops it, well within the timeout, "
      + "and nothing on the surviving node's event loops throws meanwhile")
  void changesWaitingForADeadPeerAreReleased() throws Exception {
    UserDirectory a = plainMember(ClusterConfig.load());
    List<Throwable> unhandled = new java.util.concurrent.CopyOnWriteArrayList<>();
    members.get(0).exceptionHandler(unhandled::add);
    await(members.get(0).deployVerticle(new DirectoryReplicaVerticle(NODE_KEY, true, 60_000)));
    UserDirectory b = member();
    List<String> held = IntStream.range(0, 20).mapToObj(i -> "held" + i).toList();
    await(Future.all(held.stream().map(user -> a.join(user, 5)).toList()));
    Gate toB = gate(1, b, 0);
    List<Future<?>> changes = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      changes.add(a.join("user" + i, 5));
    }
    held.forEach(user -> changes.add(a.leave(user)));
    await(until(() -> toB.dropped.get() > 0));
    // As a killed process: no goodbye, its connections just close. Within the timeout only its departure ends the wait.
    managers.get(1).getHazelcastInstance().getLifecycleService().terminate();
    await(Future.join(changes));
    assertTrue(changes.stream().allMatch(Future::succeeded), () -> changes.stream().filter(Future::failed)
        .map(f -> f.cause().toString()).toList().toString());
    assertEquals(Map.of(a.localNode(), 1), answeredAtOnce(a.sessionsByNode("user1")));
    assertEquals(Map.of(), answeredAtOnce(a.sessionsByNode("held1")));
    assertEquals(List.of(), unhandled);
    // On the event loop the departure completes the changes, then drops its listener: this thread may look in between.
    await(until(() -> DirectoryPeers.of(members.get(0)).departureListeners() == 0));
  }

  /** Holds one session of {@code user} while deployed, through a directory of its own, as a gateway does. */
  private static final class SessionHolder extends io.vertx.core.VerticleBase {

    private final String user;
    private UserDirectory directory;

    SessionHolder(String user) {
      this.user = user;
    }

    @Override
    public Future<?> start() {
      directory = UserDirectory.create(vertx);
      return directory.join(user, 5);
    }

    @Override
    public Future<?> stop() {
      return directory.leave(user);
    }
  }

  /**
   * Directory changes arriving at the replica of {@code directory}'s node (member {@code index}): the
   * first {@code passing} go through, later ones are dropped unanswered until it opens.
   */
  private Gate gate(int index, UserDirectory directory, int passing) {
    Gate gate = new Gate(passing);
    String address = Addresses.directory(directory.localNode());
    members.get(index).eventBus().addInboundInterceptor(delivery -> {
      if (address.equals(delivery.message().address()) && !gate.pass()) {
        gate.dropped.incrementAndGet();
        return;
      }
      delivery.next();
    });
    return gate;
  }

  private static final class Gate {

    final AtomicInteger dropped = new AtomicInteger();
    private final AtomicInteger passing;

    Gate(int passing) {
      this.passing = new AtomicInteger(passing);
    }

    boolean pass() {
      return passing.getAndUpdate(n -> n > 0 ? n - 1 : n) != 0;
    }

    void open() {
      passing.set(-1);
    }
  }

  @Test
  @DisplayName("a directory change or snapshot request without the cluster's node key is refused and changes nothing")
  void changesNeedTheNodeKey() throws Exception {
    UserDirectory a = member();
    plainMember(ClusterConfig.load());
    Vertx intruder = members.get(1);
    JsonObject forged = new JsonObject().put("node", "elsewhere").put("user", "mallory").put("sessions", 1)
        .put("version", 1L);
    ExecutionException change = assertThrows(ExecutionException.class,
        () -> await(intruder.eventBus().request(Addresses.directory(a.localNode()), forged)));
    ExecutionException snapshot = assertThrows(ExecutionException.class,
        () -> await(intruder.eventBus().request(Addresses.directorySnapshot(a.localNode()), new JsonObject().put("node", "x"))));
    for (ExecutionException refused : List.of(change, snapshot)) {
      ReplyException reply = assertInstanceOf(ReplyException.class, refused.getCause());
      assertEquals(ErrorCode.FORBIDDEN.failureCode(), reply.failureCode());
    }
    assertEquals(Map.of(), answeredAtOnce(a.sessionsByNode("mallory")));
  }

  @Test
  @DisplayName("a directory change of another shape (no changes, not an array, a change without a count, with a "
      + "negative count or a version that is not a number, no node, a body that is not an object) is refused at "
      + "once with a code naming what is wrong, changes nothing, and the node goes on applying well-formed changes")
  void malformedChangesAreRefused() throws Exception {
    UserDirectory a = member();
    plainMember(ClusterConfig.load());
    Vertx sender = members.get(1);
    String senderNode = managers.get(1).getNodeId();
    // Shorter than the test's timeout, so that a request left unanswered fails the assertions, not the test run.
    DeliveryOptions options = new NodeKey(NODE_KEY, false).options().setSendTimeout(5_000);
    JsonArray good = new JsonArray().add("mallory").add(1).add(1L);
    record Malformed(Object body, ErrorCode code, String named) {
    }
    List<Malformed> malformed = List.of(
        new Malformed(new JsonObject().put("node", senderNode).put("user", "mallory").put("sessions", 1)
            .put("version", 1L), ErrorCode.MISSING_FIELD, "changes"),
        new Malformed(new JsonObject().put("node", senderNode).put("changes", "mallory"), ErrorCode.INVALID_FIELD,
            "changes"),
        new Malformed(new JsonObject().put("node", senderNode).put("changes", new JsonArray().add(good)
            .add(new JsonArray().add("eve"))), ErrorCode.MISSING_FIELD, "changes[1]"),
        new Malformed(new JsonObject().put("node", senderNode).put("changes", new JsonArray().add(good)
            .add(new JsonArray().add("eve").add(-1).add(1L))), ErrorCode.INVALID_FIELD, "changes[1]"),
        new Malformed(new JsonObject().put("node", senderNode).put("changes", new JsonArray()
            .add(new JsonArray().add("mallory").add(1).add("one"))), ErrorCode.INVALID_FIELD, "version"),
        new Malformed(new JsonObject().put("changes", new JsonArray().add(good)), ErrorCode.MISSING_FIELD, "node"),
        new Malformed("mallory", ErrorCode.BAD_JSON, "JSON object"));
    for (Malformed sent : malformed) {
      ExecutionException refused = assertThrows(ExecutionException.class,
          () -> await(sender.eventBus().request(Addresses.directory(a.localNode()), sent.body(), options)));
      ReplyException reply = assertInstanceOf(ReplyException.class, refused.getCause());
      assertEquals(ReplyFailure.RECIPIENT_FAILURE, reply.failureType(), sent.body() + ": " + reply.getMessage());
      assertEquals(sent.code().failureCode(), reply.failureCode(), sent.body() + ": " + reply.getMessage());
      assertTrue(reply.getMessage().contains(sent.named()), reply.getMessage());
    }
    ExecutionException snapshot = assertThrows(ExecutionException.class, () -> await(sender.eventBus()
        .request(Addresses.directorySnapshot(a.localNode()), new JsonObject().put("node", 5), options)));
    ReplyException refusedSnapshot = assertInstanceOf(ReplyException.class, snapshot.getCause());
    assertEquals(ErrorCode.INVALID_FIELD.failureCode(), refusedSnapshot.failureCode(), refusedSnapshot.getMessage());
    assertEquals(Map.of(), answeredAtOnce(a.sessionsByNode("mallory")));
    await(sender.eventBus().request(Addresses.directory(a.localNode()),
        new JsonObject().put("node", senderNode).put("changes", new JsonArray().add(good)), options));
    assertEquals(Map.of(senderNode, 1), answeredAtOnce(a.sessionsByNode("mallory")));
  }

  /** The answer of a lookup that must not have waited for anything. */
  private static <T> T answeredAtOnce(Future<T> lookup) {
    assertTrue(lookup.isComplete(), "the lookup waited for a round trip");
    return lookup.result();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("joins, leaves and lookups between two nodes go without Java serialization: they work on members "
      + "that refuse to deserialize any of the server's classes that way")
  void changesTravelWithoutJavaSerialization(VertxTestContext ctx) throws Exception {
    UserDirectory a = member(refusingJavaSerialization());
    UserDirectory b = member(refusingJavaSerialization());
    // Enough users that both members own some entries: each change and lookup of those crosses, and every
    // change's backup goes to the other member.
    List<String> users = IntStream.range(0, 40).mapToObj(i -> "user" + i).toList();
    List<Future<Boolean>> joins = new ArrayList<>();
    users.forEach(user -> {
      joins.add(a.join(user, 5));
      joins.add(b.join(user, 5));
    });
    Future.all(joins)
        .compose(all -> {
          ctx.verify(() -> assertTrue(joins.stream().allMatch(Future::result)));
          return Future.all(users.stream().map(a::leave).toList());
        })
        .compose(left -> b.sessionsByNode(users))
        .onComplete(ctx.succeeding(found -> ctx.verify(() -> {
          assertEquals(users.size(), found.size());
          found.values().forEach(nodes -> assertEquals(Map.of(b.localNode(), 1), nodes));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("lookups of many users between two nodes start no thread per lookup, whatever the number of cores")
  void lookupsStartNoThreads(VertxTestContext ctx) throws Exception {
    UserDirectory a = member();
    UserDirectory b = member();
    List<String> users = IntStream.range(0, 40).mapToObj(i -> "user" + i).toList();
    Future.all(users.stream().map(user -> b.join(user, 5)).toList())
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long before = threads.getTotalStartedThreadCount();
    lookups(a, users, 100).onComplete(ctx.succeeding(found -> ctx.verify(() -> {
      long started = threads.getTotalStartedThreadCount() - before;
      assertEquals(users.size(), found.size());
      assertTrue(started < 20, started + " threads started during 100 lookups");
      ctx.completeNow();
    })));
  }

  /** {@code times} lookups of {@code users}, one after the other; the last one's answer. */
  private static Future<Map<String, Map<String, Integer>>> lookups(UserDirectory directory, List<String> users, int times) {
    Future<Map<String, Map<String, Integer>>> found = directory.sessionsByNode(users);
    return times == 1 ? found : found.compose(any -> lookups(directory, users, times - 1));
  }

  private static Config refusingJavaSerialization() {
    Config config = ClusterConfig.load();
    JavaSerializationFilterConfig filter = new JavaSerializationFilterConfig();
    filter.getBlacklist().addPrefixes("dev.switchboard");
    config.getSerializationConfig().setJavaSerializationFilterConfig(filter);
    return config;
  }

  @Test
  @DisplayName("the sessions of a node that left the cluster are neither found nor counted against the limit")
  void departedNodesDoNotCount() throws Exception {
    UserDirectory a = member();
    UserDirectory b = member();
    for (int i = 0; i < 3; i++) {
      assertTrue(await(b.join("zed", 3)));
    }
    assertFalse(await(a.join("zed", 3)), "a fourth session passed the limit of 3");
    await(members.remove(1).close());
    await(untilNodes(a, 1));
    // The departure reaches the replica with the same membership event.
    await(until(() -> answeredAtOnce(a.sessionsByNode("zed")).isEmpty()));
    assertTrue(await(a.join("zed", 3)));
    assertEquals(Map.of("zed", Map.of(a.localNode(), 1)), answeredAtOnce(a.sessionsByNode(List.of("zed", "other"))));
  }

  @Test
  @DisplayName("an entry marked for repair is set back to the sessions this node holds, and new sessions of the "
      + "user are refused while the repair runs, never counted twice")
  void repairSetsTheNodesOwnCount(VertxTestContext ctx) throws Exception {
    HazelcastUserDirectory a = (HazelcastUserDirectory) member();
    String entryOfNine = a.localNode() + "=9";
    Future.all(a.join("rey", 20), a.join("rey", 20), a.join("rey", 20), a.join("rey", 20))
        .compose(joined -> a.leave("rey"))
        .compose(left -> {
          // An entry gone wrong, as after a leave whose outcome was unknown.
          managers.get(0).getHazelcastInstance().<String, String>getMap(HazelcastUserDirectory.MAP_NAME)
              .put("rey", entryOfNine);
          a.markForRepair("rey");
          a.repair();
          return a.join("rey", 20).transform(during -> {
            // Started while the repair was in flight: refused. Or after it: counted once.
            return Future.succeededFuture(during.succeeded() && during.result() ? 1 : 0);
          });
        })
        .compose(extra -> untilSessions(a, "rey", 3 + extra).map(extra))
        .onComplete(ctx.succeeding(extra -> ctx.completeNow()));
  }

  /** Completes once {@code condition} holds, checked on the first member's event loop. */
  private Future<Void> until(BooleanSupplier condition) {
    Promise<Void> done = Promise.promise();
    Vertx vertx = members.get(0);
    vertx.setPeriodic(10, id -> {
      if (condition.getAsBoolean()) {
        vertx.cancelTimer(id);
        done.tryComplete();
      }
    });
    return done.future();
  }

  /** Completes once the cluster seen by {@code directory}'s node has {@code count} members. */
  private Future<Void> untilNodes(UserDirectory directory, int count) {
    Promise<Void> done = Promise.promise();
    Vertx vertx = members.get(0);
    vertx.setPeriodic(20, id -> {
      if (managers.get(0).getNodes().size() == count) {
        vertx.cancelTimer(id);
        done.tryComplete();
      }
    });
    return done.future();
  }

  /**
   * Completes once the map's entry of {@code user} counts {@code sessions} sessions on the directory's
   * node, read from the map itself (lookups read the replica).
   */
  private Future<Void> untilSessions(UserDirectory directory, String user, int sessions) {
    IMap<String, String> map = managers.get(0).getHazelcastInstance().getMap(HazelcastUserDirectory.MAP_NAME);
    return Future.fromCompletionStage(map.getAsync(user), members.get(0).getOrCreateContext())
        .compose(entry -> Integer.valueOf(sessions).equals(NodeCounts.parse(entry).getOrDefault(directory.localNode(), 0))
            ? Future.succeededFuture()
            : untilSessions(directory, user, sessions));
  }
}
