package dev.switchboard.routing;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;

/**
 * How many live sessions each user has on this node. Gateway instances record joins and leaves;
 * the router reads it to tell a push whether its recipient was online. Backed by Vert.x shared
 * data, so every verticle instance on the node sees the same counts.
 */
public final class PresenceDirectory {

  private static final String MAP_NAME = "switchboard.presence";

  private final LocalMap<String, Integer> sessions;

  public PresenceDirectory(Vertx vertx) {
    this.sessions = vertx.sharedData().getLocalMap(MAP_NAME);
  }

  public void join(String user) {
    sessions.merge(user, 1, Integer::sum);
  }

  public void leave(String user) {
    sessions.computeIfPresent(user, (u, n) -> n <= 1 ? null : n - 1);
  }

  public int sessions(String user) {
    Integer n = sessions.get(user);
    return n == null ? 0 : n;
  }
}
