package dev.switchboard.bus;

/**
 * Every event-bus address Switchboard uses. Bodies are JSON objects written and read by the records
 * in this package; failures carry {@link dev.switchboard.protocol.ErrorCode#failureCode()}.
 * {@code docs/event-bus.md} describes the public ones for publishers.
 */
public final class Addresses {

  /**
   * Public push entry point. Any verticle or cluster member requests it; the router of every node
   * consumes it.
   * Body: {@link SendCommand} as push JSON ({@code to}, {@code body}, optional {@code from}, {@code idempotencyKey}).
   * Header {@link #API_KEY_HEADER} in {@code jwt} mode.
   * Reply: {@link SendOutcome} as JSON, when at least one copy was stored; failure: a request-level
   * {@code ErrorCode}, or the first recipient's refusal when no copy was stored.
   */
  public static final String PUSH = "switchboard.push";

  /**
   * The delivery-options header in which a publisher of {@link #PUSH} presents its API key (the
   * key itself, as in {@code Authorization: Bearer <key>}): required when {@code auth.mode} is
   * {@code jwt}, checked with the same keys and rules as the HTTP push API.
   */
  public static final String API_KEY_HEADER = "apiKey";

  /**
   * The push API's pushes, to the router of its own node (local consumer only). Body as for
   * {@link #PUSH}; reply: the {@link SendOutcome} record itself, so a push to thousands of users is
   * not turned into a JSON tree, copied and parsed back before its HTTP answer is written.
   */
  public static final String ROUTER_PUSH = "switchboard.router.push";

  /**
   * The delivery-options header of a {@link #ROUTER_PUSH} request naming the API key the push API
   * checked for it (absent in insecure mode): pushes are scoped to it for idempotency.
   */
  public static final String PRINCIPAL_HEADER = "principal";

  /**
   * Messages sent by connected clients. Each gateway instance requests it once per event-loop turn
   * with what its sockets sent in that turn; the router consumes it.
   * Body: {@link SendBatch} of {@link SendCommand}s with the authenticated sender.
   * Reply: {@link SendBatchResult}, one entry per send.
   */
  public static final String ROUTER_SEND = "switchboard.router.send";

  /**
   * Ephemeral signals (typing, ...) from connected clients. A gateway instance sends it (local only)
   * for each signal that passed its limits; the router consumes it and hands the signal, in a
   * {@link DeliveryBatch} of no messages, to each node with sessions of the recipient, as it does
   * committed messages; nothing is stored. A signal is dropped when the recipient has no session or
   * a gateway of this node is behind. Body: {@link Signal}. No reply.
   */
  public static final String ROUTER_SIGNAL = "switchboard.router.signal";

  /**
   * Presence of one user. The push API requests it, the router consumes it.
   * Body: {@code {"user": id}}. Reply: {@link Presence}.
   */
  public static final String PRESENCE = "switchboard.presence";

  /**
   * Durable append of messages to one or more inboxes each. The router requests it, the inbox consumes it.
   * Body: {@link AppendBatch}. Reply: {@link AppendBatchResult}, sent only once the messages are committed.
   */
  public static final String INBOX_APPEND = "switchboard.inbox.append";

  /**
   * A change of a room's membership, committed like an append (one write at a time). The router
   * requests it (local only), the inbox consumes it. Body: {@link RoomChange}. Reply:
   * {@link RoomChangeResult}, sent only once committed.
   */
  public static final String INBOX_ROOM_CHANGE = "switchboard.inbox.room.change";

  /**
   * A room's members or a user's rooms, as stored. The router requests it (local only), the inbox
   * consumes it. Body: {@link RoomRequest} with op {@code members} or {@code rooms}. Reply:
   * {@link RoomInfo} (fails with {@code room_not_found}), or {@code {"user": id, "rooms": [ids]}}.
   */
  public static final String INBOX_ROOM_READ = "switchboard.inbox.room.read";

  /**
   * Room requests of this node's gateways (a client's frame) and HTTP API, already authenticated.
   * Request/reply, local only; the router consumes it. Body: {@link RoomRequest}. Reply: a change's
   * {@code {"room", "roomSeq"}}, a room's {@link RoomInfo}, or {@code {"user", "rooms"}}; a refusal
   * fails with its error code.
   */
  public static final String ROUTER_ROOM = "switchboard.router.room";

  /**
   * Room requests of back ends (verticles or cluster members): every router consumes it. Outside
   * insecure mode the publisher presents an API key in the {@link #API_KEY_HEADER} header and acts
   * as a back end (may do everything). Body: {@code {"op": "create"|"add"|"remove"|"members"|"rooms",
   * "room", "member", "by"}} ({@code by}: the owner of a room created, else who the change is
   * recorded as made by; defaults to the key's name or {@code push.defaultSender}). Reply: as
   * {@link #ROUTER_ROOM}.
   */
  public static final String ROOMS = "switchboard.rooms";

  /**
   * One page of a user's inbox after a seq (or after a device's stored cursor). The gateway requests it,
   * the inbox consumes it. Body: {@link ReadRequest}. Reply: {@link InboxPage}.
   */
  public static final String INBOX_READ = "switchboard.inbox.read";

  /**
   * The cursors of several devices at once, as the inbox has them (moves not yet written included).
   * The router requests it (local only) once per routed batch with the webhook on, for the mute
   * settings of the batch's offline recipients; the inbox consumes it. Body: {@link CursorRead}.
   * Reply: {@link CursorReadResult}, null where the store could not read a cursor.
   */
  public static final String INBOX_CURSORS = "switchboard.inbox.cursors";

  /**
   * A device's delivery cursor moved forward. The gateway sends it (no reply), the inbox consumes it
   * and stores it with its next write. Body: {@link CursorUpdate}.
   */
  public static final String INBOX_CURSOR = "switchboard.inbox.cursor";

  /**
   * Committed messages for users with sessions on this node. The router publishes it (local only)
   * after each commit, and for messages relayed from other nodes; every gateway instance consumes it
   * and delivers to the sessions it holds. Body: {@link DeliveryBatch}. No reply.
   */
  public static final String GATEWAY_DELIVER = "switchboard.gateway.deliver";

  /**
   * A gateway instance's event loop fell behind by more than {@code limits.maxDeliveryLagMillis},
   * or caught up to half of that again. Each gateway instance publishes it (local only) when that
   * changes; the router consumes it and refuses new sends and pushes with {@code overloaded} while
   * any instance of its node is behind, so that overload waits outside the server (as a retry)
   * instead of as deliveries queued in its memory. Body: {@link GatewayLoad}. No reply.
   */
  public static final String ROUTER_LOAD = "switchboard.router.load";

  /**
   * Notifications were committed to {@link SystemInboxes#WEBHOOK}. The router publishes it after such
   * a commit (cluster-wide with the shared PostgreSQL store, local only with an embedded one); the
   * webhook dispatcher consumes it and reads them without waiting for its poll. Body: an empty
   * {@code JsonObject}. No reply.
   */
  public static final String WEBHOOK_WAKE = "switchboard.webhook.wake";

  /**
   * How many notifications wait to be posted. The webhook dispatcher publishes it (with the same reach
   * as {@link #WEBHOOK_WAKE}) after each read of its queue; routers consume it to hold the queue to
   * {@code webhook.maxQueued}. Body: {@code {"queued": n}}. No reply.
   */
  public static final String WEBHOOK_BACKLOG = "switchboard.webhook.backlog";

  /**
   * The delivery-options header in which a node presents {@code cluster.nodeKey} on what it sends to
   * another node's {@link #node}, {@link #directory} and {@link #directorySnapshot} addresses;
   * required there when {@code auth.mode} is {@code jwt}.
   */
  public static final String NODE_KEY_HEADER = "nodeKey";

  private static final String NODE_PREFIX = "switchboard.node.";
  private static final String STATUS_PREFIX = "switchboard.status.";
  private static final String DIRECTORY_PREFIX = "switchboard.directory.";
  private static final String DIRECTORY_SNAPSHOT_PREFIX = "switchboard.directory.snapshot.";

  private Addresses() {
  }

  /**
   * One node of the cluster: the only clustered consumer per node, registered by its router.
   * Routers of other nodes send committed messages here, as a {@link DeliveryBatch}, when the
   * user directory says their recipients have sessions on that node; the consumer publishes the
   * batch to {@link #GATEWAY_DELIVER}. Send, no reply.
   */
  public static String node(String nodeId) {
    return NODE_PREFIX + nodeId;
  }

  /**
   * One node's copy of the user directory. Another node requests it when counts of users' sessions
   * there change (the changes made while one request is in flight go in the next), and a session of
   * it counts as joined only once every node has answered; the directory replica verticle consumes
   * it (clustered). Body: {@code {"node", "changes": [[user, count, version], ...]}}, the sender's
   * new counts and the versions it gave the changes, with {@link #NODE_KEY_HEADER} outside insecure
   * mode. Reply: an empty {@code JsonObject} once applied.
   */
  public static String directory(String nodeId) {
    return DIRECTORY_PREFIX + nodeId;
  }

  /**
   * One node's own sessions, for a node starting: the directory replica verticle of the starting
   * node requests it from every other node, which from then on sends its changes there too
   * ({@link #directory}); the directory replica verticle consumes it (clustered). Body:
   * {@code {"node"}}, the requester, with {@link #NODE_KEY_HEADER} outside insecure mode. Reply:
   * {@code {"node", "sessions": [[user, count, version], ...]}}.
   */
  public static String directorySnapshot(String nodeId) {
    return DIRECTORY_SNAPSHOT_PREFIX + nodeId;
  }

  /**
   * What one node tells an operator about itself. Its push API consumes it (clustered); the push API
   * of any node requests it from every member to answer the admin members list. Body: an empty
   * {@code JsonObject}. Reply: {@code {"node", "address", "sessions"}}.
   */
  public static String status(String nodeId) {
    return STATUS_PREFIX + nodeId;
  }
}
