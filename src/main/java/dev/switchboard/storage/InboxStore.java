package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomChangeResult;
import dev.switchboard.bus.RoomInfo;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A durable store of inboxes. One implementation per engine; the inbox verticle is its only caller.
 * {@link #append}, {@link #changeRoom} and {@link #purge} are the writes: a room change or a purge
 * never overlaps another write, and appends overlap only on an engine that allows it
 * ({@link dev.switchboard.config.InboxConfig#appendsInFlight}, PostgreSQL), never two that write the
 * same inbox and never one to a room.
 *
 * <p>Rooms: a room's membership and last roomSeq are stored with the inboxes. A message to a room
 * ({@link AppendRequest#isRoom()}) is expanded to the members as they stand in the commit that stores
 * it, takes the room's next roomSeq, and is stored once per member in the member's inbox under the
 * member's own seq (body kept once where the engine can); a change of membership stores a room event
 * the same way in the inboxes of the members (and of the one removed).
 */
public interface InboxStore {

  /** Opens the store, creating or migrating its schema. */
  Future<Void> open();

  /**
   * Commits a batch of appends and cursor moves in one transaction; the results, in request order,
   * are returned only after the commit. A failed future means the batch may not be durable: its
   * senders are told it failed, and no later commit may build on it (the log engine cuts a failed
   * write back, and after a failed sync refuses every write until it is reopened).
   */
  Future<List<AppendResult>> append(List<AppendRequest> batch, List<CursorUpdate> cursors, long now);

  /**
   * Creates a room or adds or removes a member, checked against the room as it stands in this commit
   * ({@link RoomRules}); answers a refusal (nothing written), or the room's new roomSeq and the event
   * copies stored. Committed and durable before it is answered, like an append.
   */
  Future<RoomChangeResult> changeRoom(RoomChange change, long now);

  /** The room, or null if there is none. */
  Future<RoomInfo> room(String room);

  /** The rooms {@code user} is a member of, sorted. */
  Future<List<String>> rooms(String user);

  /** Up to {@code limit} messages after {@code after}, skipping those past retention at {@code now}. */
  Future<InboxPage> read(String user, long after, int limit, long now);

  /**
   * Several reads, each answered on its own, in request order: up to {@code limit} messages after its
   * {@code after}, or, when that is null, after its device's stored cursor (0 if it has none), the
   * page saying which. An engine that answers them together overrides this (PostgreSQL: one
   * statement for all, so sessions starting at once cost one plan and one round trip).
   */
  default List<Future<InboxPage>> readPages(List<ReadRequest> reads, long now) {
    List<Future<InboxPage>> pages = new ArrayList<>(reads.size());
    for (ReadRequest read : reads) {
      Future<Long> after = read.after() != null ? Future.succeededFuture(read.after()) : cursor(read.user(), read.device());
      pages.add(after.compose(from -> read(read.user(), from, read.limit(), now)));
    }
    return pages;
  }

  /** The stored cursor of a device, 0 if it has none. */
  Future<Long> cursor(String user, String device);

  /**
   * The stored cursors of several devices, 0 for one with none, read together (one query, or none
   * on an engine that holds them in memory). A device missing from the answer could not be read:
   * the sharded engine leaves out those of a shard that did not answer.
   */
  Future<Map<DeviceKey, Long>> cursors(Collection<DeviceKey> devices);

  /**
   * Removes messages past retention and expired idempotency keys; returns how many messages went.
   * PostgreSQL removes whole time partitions, so a message may stay (unread) up to one partition
   * width past retention.
   */
  Future<Long> purge(long now);

  Future<Void> close();
}
