package dev.switchboard.gateway;

import dev.switchboard.protocol.ErrorCode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps one session's sends to one conversation (a peer, or a room) stored in the order they were
 * read, across refusals. One send per conversation is with the store at a time, and the next waits
 * here until its answer, since a store may commit a later send while failing an earlier one: so a
 * send is never accepted while one read before it may still be refused. Once a send is refused with
 * a retryable code, the sends behind it, and every later one, are refused with the same code until
 * the refused send comes again; a client that retries refused sends in their order (as
 * switchboard.js does) so stores them in the order they were typed. A refusal lapses once the
 * refused send is older than the store's idempotency window: no client retries a send past it (the
 * retry could be stored twice), so a conversation whose client gave the send up is not refused for
 * ever. Sends to other conversations are not held. Not thread-safe: a session uses it on its event loop.
 *
 * @param <T> what the session needs to hand a held send to the store later
 */
final class ConversationOrder<T> {

  /** What became of a send handed to {@link #enter}. */
  enum Entry {
    /** It goes to the store now. */
    GO,
    /** It waits behind the conversation's send in flight. */
    HELD,
    /** It would wait, but the session already holds its maximum: it is not taken. */
    FULL
  }

  /** A send of the conversation waiting for the one ahead of it. */
  record Held<T>(String id, T send) {
  }

  /** The state of one conversation; dropped once nothing is with the store, held or refused. */
  private static final class Line<T> {
    private final ArrayDeque<Held<T>> held = new ArrayDeque<>();
    private boolean busy;
    /** The id of the earliest send refused with a retryable code and not sent again yet, else null. */
    private String refusedId;
    private ErrorCode refusedCode;
    private long refusedAtMillis;

    private void refuse(String id, ErrorCode code, long now) {
      refusedId = id;
      refusedCode = code;
      refusedAtMillis = now;
    }

    private void lift() {
      refusedId = null;
      refusedCode = null;
    }
  }

  private final Map<String, Line<T>> lines = new HashMap<>();
  private final long lapseMillis;
  private final int maxHeld;
  /** Sends held over all conversations. */
  private int held;

  /**
   * @param lapseMillis how long a refusal holds up the conversation at most: the store's idempotency window
   * @param maxHeld how many sends the session may hold at once, since held sends sit outside the node's store queue bound
   */
  ConversationOrder(long lapseMillis, int maxHeld) {
    this.lapseMillis = lapseMillis;
    this.maxHeld = maxHeld;
  }

  /**
   * The code to refuse a new send with, null when it may go on: a conversation with a refused send
   * refuses every other send until that one comes again, which lifts the refusal.
   */
  ErrorCode blocked(String conversation, String id, long now) {
    Line<T> line = lines.get(conversation);
    if (line == null || line.refusedId == null) {
      return null;
    }
    if (line.refusedId.equals(id) || now - line.refusedAtMillis >= lapseMillis) {
      line.lift();
      dropIfIdle(conversation, line);
      return null;
    }
    return line.refusedCode;
  }

  /** The id of the send a refusal by {@link #blocked} waits for, null when none. */
  String refusedId(String conversation) {
    Line<T> line = lines.get(conversation);
    return line == null ? null : line.refusedId;
  }

  /** A send refused with a retryable code before reaching the store (the rate limit): later ones wait for it. */
  void refusedAtOnce(String conversation, String id, ErrorCode code, long now) {
    Line<T> line = lines.computeIfAbsent(conversation, c -> new Line<>());
    if (line.refusedId == null) {
      line.refuse(id, code, now);
    }
  }

  /**
   * Whether the send goes to the store now, is held behind the conversation's send in flight, or is
   * not taken since the session holds {@code maxHeld} sends already (the caller refuses it, and
   * reports that with {@link #refusedAtOnce}).
   */
  Entry enter(String conversation, String id, T send) {
    Line<T> line = lines.computeIfAbsent(conversation, c -> new Line<>());
    if (!line.busy) {
      line.busy = true;
      return Entry.GO;
    }
    if (held >= maxHeld) {
      return Entry.FULL;
    }
    line.held.add(new Held<>(id, send));
    held++;
    return Entry.HELD;
  }

  /**
   * The conversation's send in flight was answered: stored, or refused for good. Returns the held
   * send that goes to the store next, null when none waits.
   */
  Held<T> answered(String conversation) {
    Line<T> line = lines.get(conversation);
    if (line == null) {
      return null;
    }
    Held<T> next = line.held.poll();
    if (next == null) {
      line.busy = false;
      dropIfIdle(conversation, line);
    } else {
      held--;
    }
    return next;
  }

  /**
   * The conversation's send in flight was refused with a retryable code: it becomes the send the
   * conversation waits for, and the held sends are returned to be refused with the same code.
   */
  List<Held<T>> refused(String conversation, String id, ErrorCode code, long now) {
    Line<T> line = lines.computeIfAbsent(conversation, c -> new Line<>());
    // The send in flight was read before any held or refused-at-once send, so it is the earliest.
    line.refuse(id, code, now);
    line.busy = false;
    List<Held<T>> behind = new ArrayList<>(line.held);
    held -= behind.size();
    line.held.clear();
    return behind;
  }

  /** Conversations with state kept, for tests. */
  int size() {
    return lines.size();
  }

  /** Sends held over all conversations, for tests. */
  int held() {
    return held;
  }

  private void dropIfIdle(String conversation, Line<T> line) {
    if (!line.busy && line.held.isEmpty() && line.refusedId == null) {
      lines.remove(conversation);
    }
  }
}
