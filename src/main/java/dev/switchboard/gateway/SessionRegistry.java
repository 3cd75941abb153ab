package dev.switchboard.gateway;

import dev.switchboard.bus.DeliveryBatch;
import dev.switchboard.bus.Signal;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.metrics.SwitchboardMetrics;
import dev.switchboard.protocol.CloseCodes;
import dev.switchboard.protocol.ServerFrames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sessions of one gateway instance, and the joined ones grouped by user: a committed message
 * for a user reaches every session that user has joined here. Used only from its instance's event
 * loop.
 */
final class SessionRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(SessionRegistry.class);

  private final SwitchboardMetrics metrics;
  private final Set<Session> sessions = new HashSet<>();
  /** The joined sessions of each user on this instance: where delivered messages go. */
  private final Map<String, List<Session>> users = new HashMap<>();
  /** Messages written to sessions since the last report, counted in the metrics once per batch. */
  private int deliveredLive;
  private int deliveredBacklog;

  SessionRegistry(SwitchboardMetrics metrics) {
    this.metrics = metrics;
  }

  /** A session has started (it receives nothing until it {@link #join joins}). */
  void add(Session session) {
    sessions.add(session);
    metrics.connected(session.json());
  }

  /**
   * Adds the session to its user's group. The directory has named this node for the user since the
   * session was accepted, before any backlog read: a message committed after the read is pushed here
   * and reaches this group.
   */
  void join(Session session) {
    users.computeIfAbsent(session.user(), u -> new ArrayList<>(2)).add(session);
  }

  /** The session's socket has closed: it leaves its group and the count. */
  void remove(Session session) {
    session.markClosed();
    if (sessions.remove(session)) {
      metrics.disconnected(session.json(), session.closeStatus());
    }
    if (!session.joined()) {
      return;
    }
    List<Session> group = users.get(session.user());
    if (group != null && group.remove(session) && group.isEmpty()) {
      users.remove(session.user());
    }
  }

  /** Committed messages (and signals) for users with sessions on this node: each to the sessions held here. */
  void deliver(DeliveryBatch batch) {
    deliverSignals(batch.signals());
    for (StoredMessage stored : batch.messages()) {
      List<Session> group = users.get(stored.to());
      if (group != null) {
        Delivery delivery = new Delivery(stored, true);
        for (Session session : group) {
          try {
            session.onLive(delivery);
          } catch (RuntimeException e) {
            // One broken session must not cost the others their delivery. Closed, its client
            // reconnects and reads what it missed from the store.
            LOG.error("delivery to a session of user {} failed; closing that session", stored.to(), e);
            session.close(CloseCodes.INTERNAL_ERROR, "internal error");
          }
        }
      }
    }
    reportDelivered();
  }

  void countDelivered(boolean live) {
    if (live) {
      deliveredLive++;
    } else {
      deliveredBacklog++;
    }
  }

  void reportDelivered() {
    metrics.delivered(deliveredLive, deliveredBacklog);
    deliveredLive = 0;
    deliveredBacklog = 0;
  }

  /** Signals for users with sessions on this node: each to the v1 sessions held here, encoded once. */
  private void deliverSignals(List<Signal> signals) {
    for (Signal signal : signals) {
      List<Session> group = users.get(signal.to());
      if (group != null) {
        String frame = ServerFrames.signal(signal.from(), signal.kind(), signal.data());
        for (Session session : group) {
          session.onSignal(frame);
        }
      }
    }
  }

  /** Pings every session; each session's own timer closes it when silent or expired. */
  void pingAll() {
    for (Session session : new ArrayList<>(sessions)) { // a failed ping may close its session
      session.ping();
    }
  }

  /** Closes every session with {@code code}: the instance is stopping. */
  void closeAll(short code, String reason) {
    for (Session session : new ArrayList<>(sessions)) {
      session.close(code, reason);
    }
  }
}
