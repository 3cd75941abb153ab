package dev.switchboard.routing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The directory of a node that is not clustered: a local map ({@code switchboard.users}) shared by
 * the node's verticles, read and changed in place without a future per user (a push to thousands
 * of users looks every one of them up).
 */
public final class LocalUserDirectory implements UserDirectory {

  static final String NODE = "local";
  private static final String MAP_NAME = "switchboard.users";

  private final LocalMap<String, String> map;
  private final ParsedCounts parsed = new ParsedCounts();

  public LocalUserDirectory(Vertx vertx) {
    this.map = vertx.sharedData().getLocalMap(MAP_NAME);
  }

  @Override
  public String localNode() {
    return NODE;
  }

  @Override
  public Future<Boolean> join(String user, int maxSessions) {
    boolean[] joined = new boolean[1];
    // Atomic: gateway instances on their own event loops join and leave the same users.
    map.compute(user, (u, entry) -> {
      joined[0] = NodeCounts.total(entry) < maxSessions;
      return joined[0] ? NodeCounts.adjust(entry, NODE, 1) : entry;
    });
    return Future.succeededFuture(joined[0]);
  }

  @Override
  public Future<Void> leave(String user) {
    map.compute(user, (u, entry) -> NodeCounts.adjust(entry, NODE, -1));
    return Future.succeededFuture();
  }

  @Override
  public Future<Map<String, Integer>> sessionsByNode(String user) {
    return Future.succeededFuture(counts(user));
  }

  @Override
  public Future<Map<String, Map<String, Integer>>> sessionsByNode(Collection<String> users) {
    Map<String, Map<String, Integer>> found = new HashMap<>();
    for (String user : users) {
      Map<String, Integer> nodes = counts(user);
      if (!nodes.isEmpty()) {
        found.put(user, nodes);
      }
    }
    return Future.succeededFuture(found);
  }

  @Override
  public void repair() {
    // a local map's changes never fail
  }

  private Map<String, Integer> counts(String user) {
    return parsed.of(map.get(user));
  }
}
