package dev.switchboard.support;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Strong references to the Vert.x clients a test is still using. Vert.x 5 hands out clients wrapped
 * in a {@code Cleaner}: once the wrapper is unreachable, a garbage collection closes the client,
 * even in the middle of a connect or a request ("Pool closed", "Connection was closed"). A client
 * created inline in a future chain is such a wrapper; holding it here (until released, or for the
 * rest of the run: the test's Vert.x closes it) keeps the test's outcome from depending on when the
 * collector runs.
 */
public final class HeldClients {

  private static final Set<Object> HELD = ConcurrentHashMap.newKeySet();

  private HeldClients() {
  }

  public static <T> T hold(T client) {
    HELD.add(client);
    return client;
  }

  public static void release(Object client) {
    HELD.remove(client);
  }
}
