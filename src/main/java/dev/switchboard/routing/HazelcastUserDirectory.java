package dev.switchboard.routing;

import com.hazelcast.core.ReadOnly;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.switchboard.logging.WarningDigest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The directory of a cluster: the Hazelcast map {@code switchboard.users}, shared by all nodes,
 * counts each user's sessions per node and holds the per-user limit. Each connect and disconnect is
 * one entry processor run on the entry's owner (check, count and clean in one step), asynchronous,
 * its result handed back on the calling verticle's context.
 *
 * <p>Lookups read the node's {@link SessionReplica} (kept by the {@link DirectoryReplicaVerticle})
 * and the sessions this node holds, without a round trip: each change of this node's count is
 * announced to every other node, and a join completes only once they have all applied it, so a
 * session's node is known to every router as soon as {@link #join} completes, and a message
 * committed right after the session read its backlog is pushed to it. Until the replica verticle
 * has taken its snapshot (or where none runs), lookups read the map on the entries' owners.
 *
 * <p>Counts of nodes that left the cluster are dropped by every change and ignored by lookups. A
 * change whose outcome is unknown (it failed) marks the user for repair: {@link #repair} then sets
 * this node's count in the map to the sessions this node holds, counted locally, once no other
 * change of that user is in flight here (while one repair runs, new sessions of the user are
 * refused, so that it cannot overwrite their counts). An announcement that some node did not take in
 * (it did not answer within the timeout, or failed) marks the user too: {@link #repair} then
 * announces this node's current count of the user again, under a new version, until every node
 * holds it; that needs no change of the map.
 *
 * <p>One cause (a peer that answers nothing, a failing map) fails the changes of every user at once:
 * their warnings are counted per kind on the node and written at most once per {@link #WARNING_INTERVAL},
 * and what a repair brings back in one line per repair; each user's at DEBUG.
 */
public final class HazelcastUserDirectory implements UserDirectory {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastUserDirectory.class);
  static final String MAP_NAME = "switchboard.users";
  /** This node's own view, shared by its verticles: sessions held and changes in flight, per user. */
  static final String HERE_MAP = "switchboard.users.here";
  /** Users of this node whose entry may be wrong since a change failed. */
  private static final String REPAIR_MAP = "switchboard.users.repair";
  /** Users of this node whose count some other node may have missed since an announcement failed. */
  private static final String REANNOUNCE_MAP = "switchboard.users.reannounce";
  /** The node's {@link WarningDigest}s, one per kind of warning, shared by its verticles. */
  private static final String WARNINGS_MAP = "switchboard.users.warnings";
  /** Often enough to follow an outage as it goes on, seldom enough that one per kind cannot flood the log. */
  static final Duration WARNING_INTERVAL = Duration.ofMinutes(1);
  /** Users named in a line that sums up many. */
  private static final int EXAMPLES = 3;

  /**
   * One user's sessions on this node: counted ones, changes in flight, whether a repair runs, and the
   * version of the count as last announced to other nodes.
   */
  record Here(int live, int pending, boolean repairing, long version) implements Shareable {

    static final Here NONE = new Here(0, 0, false, 0);

    Here plus(int liveDelta, int pendingDelta) {
      return new Here(live + liveDelta, pending + pendingDelta, repairing, version);
    }

    Here repairing(boolean on) {
      return new Here(live, pending, on, version);
    }

    Here version(long changed) {
      return new Here(live, pending, repairing, changed);
    }

    /** Null (no entry) when nothing is left to remember. */
    Here orNull() {
      return live <= 0 && pending <= 0 && !repairing ? null : this;
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final HazelcastClusterManager manager;
  private final IMap<String, String> map;
  private final LocalMap<String, Here> here;
  private final LocalMap<String, Boolean> toRepair;
  private final LocalMap<String, Boolean> toReannounce;
  private final String localNode;
  private final ParsedCounts parsed = new ParsedCounts();
  private final PeerChanges changes;
  private final WarningDigest notTakenIn;
  private final WarningDigest refused;
  private final WarningDigest failed;

  public HazelcastUserDirectory(Vertx vertx, HazelcastClusterManager manager) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.manager = manager;
    this.map = manager.getHazelcastInstance().getMap(MAP_NAME);
    this.here = vertx.sharedData().getLocalMap(HERE_MAP);
    this.toRepair = vertx.sharedData().getLocalMap(REPAIR_MAP);
    this.toReannounce = vertx.sharedData().getLocalMap(REANNOUNCE_MAP);
    this.localNode = manager.getNodeId();
    this.changes = new PeerChanges(vertx, context, localNode);
    LocalMap<String, WarningDigest> warnings = vertx.sharedData().getLocalMap(WARNINGS_MAP);
    this.notTakenIn = warnings.computeIfAbsent("notTakenIn", k -> new WarningDigest(LOG, "user directory: this node's "
        + "sessions of some users not taken in by every node (users since the last such line: {}, among them {}; last cause: "
        + "{}); each is announced again at every repair (gateway heartbeat) until every node holds it",
        WARNING_INTERVAL));
    this.refused = warnings.computeIfAbsent("refused", k -> new WarningDigest(LOG, "user directory: sessions refused "
        + "because not every node applied their join (users since the last such line: {}, among them {}; last cause: "
        + "{}); the nodes that took a join in are told to withdraw it", WARNING_INTERVAL));
    this.failed = warnings.computeIfAbsent("failed", k -> new WarningDigest(LOG, "user directory: changes of the "
        + "cluster-wide map failed (users since the last such line: {}, among them {}; last cause: {}); each entry is "
        + "set again from this node's sessions at the next repair (gateway heartbeat)", WARNING_INTERVAL));
  }

  @Override
  public String localNode() {
    return localNode;
  }

  @Override
  public Future<Boolean> join(String user, int maxSessions) {
    boolean[] started = new boolean[1];
    here.compute(user, (u, h) -> {
      Here state = h == null ? Here.NONE : h;
      started[0] = !state.repairing();
      return started[0] ? state.plus(0, 1) : h;
    });
    if (!started[0]) {
      return Future.failedFuture("the directory entry of user " + user + " is being repaired");
    }
    return submit(user, Change.join(localNode, maxSessions, alive())).transform(done -> {
      if (done.failed()) {
        here.compute(user, (u, h) -> h.plus(0, -1).orNull());
        // It may have been counted all the same: the session is refused, the count repaired.
        needsRepair(user, "join", done.cause());
        return Future.failedFuture(done.cause());
      }
      if (!done.result()) {
        here.compute(user, (u, h) -> h.plus(0, -1).orNull());
        return Future.succeededFuture(false);
      }
      return announce(user, 1, -1).transform(told -> {
        if (told.succeeded()) {
          return Future.succeededFuture(true);
        }
        // Not every node knows of the session: it is refused, and the nodes told of it told again.
        LOG.debug("user directory: join of {} not applied by every node ({}); the session is refused",
            user, told.cause().getMessage());
        refused.add(user, told.cause().getMessage());
        announce(user, -1, 0);
        markForRepair(user);
        return Future.failedFuture(told.cause());
      });
    });
  }

  @Override
  public Future<Void> leave(String user) {
    boolean[] started = new boolean[1];
    Here[] left = new Here[1];
    here.compute(user, (u, h) -> {
      Here state = h == null ? Here.NONE : h;
      started[0] = !state.repairing();
      // Versioned inside the step, so that the order of versions is the order of counts.
      left[0] = state.plus(-1, started[0] ? 1 : 0).version(nextVersion());
      return left[0].orNull();
    });
    // A node that missed it is told again by a repair: the leave is done all the same.
    Future<Void> told = tell(user, left[0]).recover(e -> Future.succeededFuture());
    if (!started[0]) {
      // The repair in flight may have counted this session: repair once more after it.
      toRepair.put(user, true);
      return told;
    }
    Future<Void> counted = submit(user, Change.leave(localNode, alive())).transform(done -> {
      here.compute(user, (u, h) -> h.plus(0, -1).orNull());
      if (done.failed()) {
        needsRepair(user, "leave", done.cause());
      }
      return Future.<Void>succeededFuture();
    });
    return Future.all(told, counted).mapEmpty();
  }

  @Override
  public Future<Map<String, Integer>> sessionsByNode(String user) {
    DirectoryPeers peers = peers();
    if (peers != null && peers.ready()) {
      return Future.succeededFuture(replicated(peers.replica(), user));
    }
    return Future.fromCompletionStage(map.getAsync(user), context).map(entry -> liveCounts(user, entry, aliveSet()));
  }

  @Override
  public Future<Map<String, Map<String, Integer>>> sessionsByNode(Collection<String> users) {
    DirectoryPeers peers = peers();
    if (peers != null && peers.ready()) {
      Map<String, Map<String, Integer>> found = new HashMap<>();
      for (String user : users) {
        Map<String, Integer> nodes = replicated(peers.replica(), user);
        if (!nodes.isEmpty()) {
          found.put(user, nodes);
        }
      }
      return Future.succeededFuture(found);
    }
    Set<String> distinct = new HashSet<>(users);
    if (distinct.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    if (distinct.size() == 1) {
      String user = distinct.iterator().next();
      return sessionsByNode(user).map(nodes -> nodes.isEmpty() ? Map.of() : Map.of(user, nodes));
    }
    return Future.fromCompletionStage(map.submitToKeys(distinct, new Read()), context).map(entries -> {
      Set<String> alive = aliveSet();
      Map<String, Map<String, Integer>> found = new HashMap<>();
      entries.forEach((user, entry) -> {
        Map<String, Integer> nodes = liveCounts(user, entry, alive);
        if (!nodes.isEmpty()) {
          found.put(user, nodes);
        }
      });
      return found;
    });
  }

  @Override
  public void repair() {
    notTakenIn.flush();
    refused.flush();
    failed.flush();
    reannounce();
    List<String> repairing = new ArrayList<>();
    List<Future<Void>> repairs = new ArrayList<>();
    for (String user : new ArrayList<>(toRepair.keySet())) {
      int[] live = {-1};
      here.compute(user, (u, h) -> {
        Here state = h == null ? Here.NONE : h;
        if (state.pending() > 0 || state.repairing()) {
          return h; // next time: a change in flight would race with the repair
        }
        live[0] = Math.max(state.live(), 0);
        return state.repairing(true);
      });
      if (live[0] < 0) {
        continue;
      }
      toRepair.remove(user);
      repairing.add(user);
      repairs.add(submit(user, Change.set(localNode, live[0], alive())).transform(done -> {
        here.compute(user, (u, h) -> h.repairing(false).orNull());
        if (done.failed()) {
          needsRepair(user, "repair", done.cause());
          return Future.failedFuture(done.cause());
        }
        LOG.debug("user directory: entry of {} repaired ({} sessions on this node)", user, live[0]);
        return Future.succeededFuture();
      }));
    }
    whenDone(repairing, repairs, "user directory: entries of {} users set again from this node's sessions (among them {})");
  }

  /** Tells every node again the counts some of them may have missed. */
  private void reannounce() {
    List<String> users = new ArrayList<>();
    List<Future<Void>> told = new ArrayList<>();
    for (String user : new ArrayList<>(toReannounce.keySet())) {
      // One announcement in flight per user: a failed one marks the user again.
      if (toReannounce.remove(user) != null) {
        users.add(user);
        told.add(announce(user, 0, 0).onSuccess(v -> LOG.debug("user directory: every node holds this node's sessions "
            + "of {} again", user)));
      }
    }
    whenDone(users, told, "user directory: every node holds this node's sessions of {} users again (among them {})");
  }

  /** One line for the users of a repair whose {@code outcomes} succeeded, once all are known. */
  private static void whenDone(List<String> users, List<? extends Future<?>> outcomes, String done) {
    if (outcomes.isEmpty()) {
      return;
    }
    Future.join(outcomes).onComplete(all -> {
      List<String> succeeded = new ArrayList<>();
      for (int i = 0; i < outcomes.size(); i++) {
        if (outcomes.get(i).succeeded()) {
          succeeded.add(users.get(i));
        }
      }
      if (!succeeded.isEmpty()) {
        LOG.info(done, succeeded.size(), String.join(", ", succeeded.subList(0, Math.min(EXAMPLES, succeeded.size()))));
      }
    });
  }

  private void needsRepair(String user, String change, Throwable cause) {
    LOG.debug("user directory: {} of {} failed ({}); its entry will be repaired from this node's sessions",
        change, user, cause.getMessage());
    failed.add(user, change + " failed: " + cause.getMessage());
    markForRepair(user);
  }

  /** The next {@link #repair} sets this node's count of {@code user} to the sessions held here. */
  void markForRepair(String user) {
    toRepair.put(user, true);
  }

  private <R> Future<R> submit(String user, EntryProcessor<String, String, R> change) {
    CompletionStage<R> stage;
    try {
      stage = map.submitToKey(user, change);
    } catch (RuntimeException e) {
      return Future.failedFuture(e); // e.g. the instance is shutting down
    }
    return Future.fromCompletionStage(stage, context);
  }

  /** The sessions of an entry on nodes still in the cluster; an entry naming others is cleaned. */
  private Map<String, Integer> liveCounts(String user, String entry, Set<String> alive) {
    if (entry == null) {
      return Map.of();
    }
    String current = NodeCounts.retain(entry, alive::contains);
    if (!entry.equals(current)) {
      LOG.debug("user {}: dropping sessions of departed nodes", user);
      submit(user, Change.retain(alive.toArray(new String[0])))
          .onFailure(e -> LOG.debug("user {}: cleaning the entry failed: {}", user, e.getMessage()));
    }
    return parsed.of(current);
  }

  /** The sessions of {@code user} on the other nodes, as the replica holds them, and on this one. */
  private Map<String, Integer> replicated(SessionReplica replica, String user) {
    Map<String, Integer> elsewhere = replica.sessionsOf(user);
    Here state = here.get(user);
    if (state == null || state.live() <= 0) {
      return elsewhere;
    }
    if (elsewhere.isEmpty()) {
      return Map.of(localNode, state.live());
    }
    Map<String, Integer> all = new HashMap<>(elsewhere);
    all.put(localNode, state.live());
    return all;
  }

  /**
   * Counts {@code delta} more (or fewer) sessions of {@code user} here, under a new version, and
   * tells the other nodes; done once they all hold it.
   */
  private Future<Void> announce(String user, int liveDelta, int pendingDelta) {
    Here[] changed = new Here[1];
    here.compute(user, (u, h) -> {
      changed[0] = (h == null ? Here.NONE : h).plus(liveDelta, pendingDelta).version(nextVersion());
      return changed[0].orNull();
    });
    return tell(user, changed[0]);
  }

  /**
   * Tells the other nodes this node's count of {@code user} as {@code state} has it; when one of them
   * may not have taken it in, the next {@link #repair} tells them all again.
   */
  private Future<Void> tell(String user, Here state) {
    DirectoryPeers peers = peers();
    if (peers == null) {
      return Future.succeededFuture();
    }
    return changes.announce(peers, user, Math.max(state.live(), 0), state.version()).onFailure(e -> {
      LOG.debug("user directory: this node's sessions of {} not taken in by every node ({}); announced again at the "
          + "next repair", user, e.getMessage());
      notTakenIn.add(user, e.getMessage());
      toReannounce.put(user, true);
    });
  }

  private long nextVersion() {
    DirectoryPeers peers = peers();
    return peers == null ? 0 : peers.nextVersion();
  }

  /** The node's replica and peers, once its {@link DirectoryReplicaVerticle} has installed them. */
  private DirectoryPeers peers() {
    return DirectoryPeers.of(vertx);
  }

  private Set<String> aliveSet() {
    return new HashSet<>(manager.getNodes());
  }

  private String[] alive() {
    return manager.getNodes().toArray(new String[0]);
  }

  /**
   * How the directory's entry processors travel between members: as Hazelcast's identified data
   * (a factory and class id, then the fields), not by Java serialization, which writes and resolves
   * class descriptors for each change on the caller, the owner and the backup. Registered in every
   * member's configuration ({@code ClusterConfig}).
   */
  public static final class Serialization implements DataSerializableFactory {

    /** The factory's id in the cluster; it never changes, or members of two versions cannot read each other's changes. */
    public static final int FACTORY_ID = 0x5342_0001;
    static final int CHANGE = 1;
    static final int READ = 2;

    @Override
    public IdentifiedDataSerializable create(int typeId) {
      return switch (typeId) {
        case CHANGE -> new Change();
        case READ -> new Read();
        default -> null;
      };
    }
  }

  /** Runs on the entry's owner (and its backups): drops departed nodes, then applies one change. */
  static final class Change implements EntryProcessor<String, String, Boolean>, IdentifiedDataSerializable {

    /** Each kind's number on the wire never changes: members of two versions read each other's changes. */
    private enum Kind {
      JOIN(1), LEAVE(2), SET(3), RETAIN(4);

      final int code;

      Kind(int code) {
        this.code = code;
      }

      static Kind of(int code) {
        for (Kind kind : values()) {
          if (kind.code == code) {
            return kind;
          }
        }
        throw new IllegalArgumentException("no directory change of kind " + code);
      }
    }

    private Kind kind;
    private String node;
    /** JOIN: the most sessions the user may have; SET: this node's count. */
    private int value;
    private String[] alive;

    /** For {@link Serialization}: the fields follow in {@link #readData}. */
    Change() {
    }

    private Change(Kind kind, String node, int value, String[] alive) {
      this.kind = kind;
      this.node = node;
      this.value = value;
      this.alive = alive;
    }

    static Change join(String node, int maxSessions, String[] alive) {
      return new Change(Kind.JOIN, node, maxSessions, alive);
    }

    static Change leave(String node, String[] alive) {
      return new Change(Kind.LEAVE, node, 0, alive);
    }

    static Change set(String node, int sessions, String[] alive) {
      return new Change(Kind.SET, node, sessions, alive);
    }

    static Change retain(String[] alive) {
      return new Change(Kind.RETAIN, null, 0, alive);
    }

    @Override
    public Boolean process(Map.Entry<String, String> entry) {
      Set<String> live = new HashSet<>(Arrays.asList(alive));
      if (node != null) {
        live.add(node);
      }
      Map<String, Integer> counts = NodeCounts.parse(entry.getValue());
      counts.keySet().retainAll(live);
      boolean done = true;
      switch (kind) {
        case JOIN -> {
          done = counts.values().stream().mapToInt(Integer::intValue).sum() < value;
          if (done) {
            counts.merge(node, 1, Integer::sum);
          }
        }
        case LEAVE -> counts.merge(node, -1, Integer::sum);
        case SET -> counts.put(node, value);
        case RETAIN -> {
        }
      }
      String updated = NodeCounts.format(counts);
      if (!Objects.equals(updated, entry.getValue())) {
        entry.setValue(updated); // null removes the entry
      }
      return done;
    }

    @Override
    public int getFactoryId() {
      return Serialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
      return Serialization.CHANGE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeByte(kind.code);
      out.writeString(node);
      out.writeInt(value);
      out.writeStringArray(alive);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      kind = Kind.of(in.readByte());
      node = in.readString();
      value = in.readInt();
      alive = in.readStringArray();
    }
  }

  /** The entry as it is, read on its owner. */
  static final class Read implements EntryProcessor<String, String, String>, ReadOnly, IdentifiedDataSerializable {

    @Override
    public String process(Map.Entry<String, String> entry) {
      return entry.getValue();
    }

    @Override
    public EntryProcessor<String, String, String> getBackupProcessor() {
      return null;
    }

    @Override
    public int getFactoryId() {
      return Serialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
      return Serialization.READ;
    }

    @Override
    public void writeData(ObjectDataOutput out) {
      // nothing: the key says which entry
    }

    @Override
    public void readData(ObjectDataInput in) {
      // nothing
    }
  }
}
