package dev.switchboard.routing;

import com.hazelcast.map.IMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Which nodes hold live sessions of each user, and how many: the map {@code switchboard.users}
 * (user id to {@link NodeCounts}). On a single node it is a local map; in a cluster it is a
 * Hazelcast map shared by all nodes, so one write per connect and disconnect, whatever the
 * number of nodes or users. Entries of nodes that left the cluster are ignored and removed when met.
 *
 * <p>Reads go to the entry's owner (no near cache): a session's node must be visible to every
 * router as soon as {@link #join} completes, or a message committed right after the session read
 * its backlog would not be pushed to it.
 */
public final class UserDirectory {

  private static final Logger LOG = LoggerFactory.getLogger(UserDirectory.class);
  private static final String MAP_NAME = "switchboard.users";
  private static final int MAX_ATTEMPTS = 50;
  private static final int PARSED_ENTRIES_KEPT = 256;

  private final Vertx vertx;
  /** The cluster-wide map; null when not clustered. */
  private final Future<AsyncMap<String, String>> map;
  /**
   * The map of a node that is not clustered: read and changed in place, without a future per user
   * (a push to 10,000 users otherwise spent a fifth of its event-loop time here); null in a cluster.
   */
  private final LocalMap<String, String> localMap;
  private final ClusterManager clusterManager;
  /** The same map as {@link #map}, for reading many entries in one call; null when not on Hazelcast. */
  private final IMap<String, String> hazelcastMap;
  private final String localNode;
  /**
   * Entries already parsed, by their text: most users' entries are one of a few strings
   * ({@code local=1}, ...), and a push to 10,000 users looks every one of them up. Only read and
   * written on the owning verticle's event loop, like the rest of this object.
   */
  private final Map<String, Map<String, Integer>> parsedEntries = new HashMap<>();

  public UserDirectory(Vertx vertx) {
    this.vertx = vertx;
    this.clusterManager = vertx.isClustered() ? ((VertxInternal) vertx).clusterManager() : null;
    this.map = clusterManager == null ? null : vertx.sharedData().getAsyncMap(MAP_NAME);
    this.localMap = clusterManager == null ? vertx.sharedData().getLocalMap(MAP_NAME) : null;
    this.hazelcastMap = clusterManager instanceof HazelcastClusterManager hazelcast
        ? hazelcast.getHazelcastInstance().getMap(MAP_NAME) : null;
    this.localNode = clusterManager == null ? "local" : clusterManager.getNodeId();
  }

  /** This node's id: the cluster member id, or {@code local} when not clustered. */
  public String localNode() {
    return localNode;
  }

  /** A session of {@code user} opened on this node; completes once every node can see it. */
  public Future<Void> join(String user) {
    return update(user, entry -> NodeCounts.adjust(entry, localNode, 1));
  }

  /** A session of {@code user} on this node closed. */
  public Future<Void> leave(String user) {
    return update(user, entry -> NodeCounts.adjust(entry, localNode, -1));
  }

  /** Live sessions of {@code user} per node, counting only nodes still in the cluster. */
  public Future<Map<String, Integer>> sessionsByNode(String user) {
    if (localMap != null) {
      return Future.succeededFuture(localCounts(user));
    }
    return map.compose(m -> m.get(user)).map(entry -> entry == null ? Map.of() : liveCounts(user, entry, aliveNodes()));
  }

  /**
   * Live sessions per node of each of {@code users} (users without sessions are left out). On
   * Hazelcast this is one {@code getAll} (one call per partition owner) instead of a call per user:
   * a push to thousands of users would otherwise wait for thousands of round trips.
   */
  public Future<Map<String, Map<String, Integer>>> sessionsByNode(Collection<String> users) {
    if (localMap != null) {
      Map<String, Map<String, Integer>> found = new HashMap<>();
      for (String user : users) {
        Map<String, Integer> nodes = localCounts(user);
        if (!nodes.isEmpty()) {
          found.put(user, nodes);
        }
      }
      return Future.succeededFuture(found);
    }
    Set<String> distinct = new HashSet<>(users);
    if (hazelcastMap == null || distinct.size() <= 1) {
      Map<String, Future<Map<String, Integer>>> each = new HashMap<>();
      distinct.forEach(user -> each.put(user, sessionsByNode(user)));
      return Future.all(new ArrayList<>(each.values())).map(done -> {
        Map<String, Map<String, Integer>> found = new HashMap<>();
        each.forEach((user, nodes) -> {
          if (!nodes.result().isEmpty()) {
            found.put(user, nodes.result());
          }
        });
        return found;
      });
    }
    // Hazelcast 5.3 has no asynchronous getAll: the one blocking call runs on a worker thread.
    return vertx.executeBlocking(() -> hazelcastMap.getAll(distinct), false).map(entries -> {
      Set<String> alive = aliveNodes();
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

  /** Not clustered: every entry names only this node. */
  private Map<String, Integer> localCounts(String user) {
    String entry = localMap.get(user);
    return entry == null ? Map.of() : parsed(entry);
  }

  /** {@link NodeCounts#parse}, unmodifiable and kept for the next user with the same entry. */
  private Map<String, Integer> parsed(String entry) {
    Map<String, Integer> counts = parsedEntries.get(entry);
    if (counts == null) {
      if (parsedEntries.size() >= PARSED_ENTRIES_KEPT) {
        parsedEntries.clear();
      }
      counts = Collections.unmodifiableMap(NodeCounts.parse(entry));
      parsedEntries.put(entry, counts);
    }
    return counts;
  }

  /** The sessions of an entry on nodes still in the cluster; the entry is cleaned when it names others. */
  private Map<String, Integer> liveCounts(String user, String entry, Set<String> alive) {
    String current = NodeCounts.retain(entry, alive::contains);
    if (!entry.equals(current)) {
      LOG.debug("user {}: dropping sessions of departed nodes", user);
      update(user, e -> NodeCounts.retain(e, alive::contains));
    }
    return current == null ? Map.of() : parsed(current);
  }

  private Set<String> aliveNodes() {
    return clusterManager == null ? Set.of(localNode) : new HashSet<>(clusterManager.getNodes());
  }

  /** Compare-and-set loop: concurrent joins of one user on several nodes must not lose a count. */
  private Future<Void> update(String user, Function<String, String> change) {
    if (localMap != null) {
      // Atomic: gateway instances on their own event loops join and leave the same users.
      localMap.compute(user, (u, old) -> change.apply(old));
      return Future.succeededFuture();
    }
    return map.compose(m -> attempt(m, user, change, 1));
  }

  private Future<Void> attempt(AsyncMap<String, String> m, String user, Function<String, String> change, int attempt) {
    return m.get(user).compose(old -> {
      String updated = change.apply(old);
      Future<Boolean> written;
      if (old == null) {
        written = updated == null ? Future.succeededFuture(true) : m.putIfAbsent(user, updated).map(prev -> prev == null);
      } else if (updated == null) {
        written = m.removeIfPresent(user, old);
      } else {
        written = m.replaceIfPresent(user, old, updated);
      }
      return written.compose(ok -> {
        if (ok) {
          return Future.succeededFuture();
        }
        if (attempt >= MAX_ATTEMPTS) {
          return Future.failedFuture("user directory entry of " + user + " kept changing");
        }
        return attempt(m, user, change, attempt + 1);
      });
    });
  }
}
