package dev.switchboard.bus;

/**
 * Every event-bus address Switchboard uses. Bodies are JSON objects written and read by the records
 * in this package; failures carry {@link dev.switchboard.protocol.ErrorCode#failureCode()}.
 * {@code docs/event-bus.md} describes the public ones for publishers.
 */
public final class Addresses {

  /**
   * Public push entry point. Any verticle or cluster member requests it; the router of every node
   * consumes it. The push API requests it local-only, so an HTTP push is routed by its own node.
   * Body: {@link SendCommand} as push JSON ({@code to}, {@code body}, optional {@code from}, {@code idempotencyKey}).
   * Reply: {@link SendOutcome}; failure: a request-level {@code ErrorCode}.
   */
  public static final String PUSH = "switchboard.push";

  /**
   * Messages sent by connected clients. The gateway requests it, the router consumes it.
   * Body: {@link SendCommand} with the authenticated sender. Reply: {@link SendOutcome}.
   */
  public static final String ROUTER_SEND = "switchboard.router.send";

  /**
   * Presence of one user. The push API requests it, the router consumes it.
   * Body: {@code {"user": id}}. Reply: {@link Presence}.
   */
  public static final String PRESENCE = "switchboard.presence";

  /**
   * Durable append of one message to one or more inboxes. The router requests it, the inbox consumes it.
   * Body: {@link AppendRequest}. Reply: {@link AppendResult}, sent only once the messages are committed.
   */
  public static final String INBOX_APPEND = "switchboard.inbox.append";

  /**
   * One page of a user's inbox after a seq (or after a device's stored cursor). The gateway requests it,
   * the inbox consumes it. Body: {@link ReadRequest}. Reply: {@link InboxPage}.
   */
  public static final String INBOX_READ = "switchboard.inbox.read";

  /**
   * A device's delivery cursor moved forward. The gateway sends it (no reply), the inbox consumes it
   * and stores it with its next write. Body: {@link CursorUpdate}.
   */
  public static final String INBOX_CURSOR = "switchboard.inbox.cursor";

  private static final String USER_PREFIX = "switchboard.user.";
  private static final String NODE_PREFIX = "switchboard.node.";

  private Addresses() {
  }

  /**
   * The live sessions of one user on this node. Each gateway instance holding a session of the user
   * registers a local consumer while it does; the router publishes to it once a message is committed.
   * Body: {@link StoredMessage}. Local only, never a clustered registration.
   */
  public static String user(String userId) {
    return USER_PREFIX + userId;
  }

  /**
   * One node of the cluster: the only clustered consumer per node, registered by its router.
   * Routers of other nodes send a committed {@link StoredMessage} here when the user directory
   * says the recipient has sessions on that node; the consumer publishes it to {@link #user}
   * locally. Send, no reply.
   */
  public static String node(String nodeId) {
    return NODE_PREFIX + nodeId;
  }
}
