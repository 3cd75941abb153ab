package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomChangeResult;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Rooms over several PostgreSQL shards. A room's row, members and roomSeq live on the room's shard
 * ({@link ShardMap} of the room id), which commits a room send or change first: it locks the room,
 * takes the next roomSeq, checks the rules, stores its own members' copies (and a room message's
 * body) and, for a keyed send, the key's record. Then every other shard with members stores its
 * members' copies and one copy of the body. A keyed retry is answered by the room's shard, and the
 * other shards store only what they lack (a shard that has the body has every copy of it).
 */
final class ShardedRooms {

  private static final Logger LOG = LoggerFactory.getLogger(ShardedRooms.class);

  private final ShardMap map;
  private final List<PgInboxStore> shards;
  private final ShardedInboxStore store;

  ShardedRooms(ShardMap map, List<PgInboxStore> shards, ShardedInboxStore store) {
    this.map = map;
    this.shards = shards;
    this.store = store;
  }

  /** The answers to room sends, in request order; the members of a failed or down shard are answered {@code unavailable}. */
  Future<List<AppendResult>> append(List<AppendRequest> requests, long now) {
    Map<Integer, List<Integer>> byRoomShard = new TreeMap<>();
    for (int i = 0; i < requests.size(); i++) {
      byRoomShard.computeIfAbsent(map.shardOf(requests.get(i).room()), k -> new ArrayList<>()).add(i);
    }
    AppendResult[] results = new AppendResult[requests.size()];
    List<Future<?>> firsts = new ArrayList<>();
    byRoomShard.forEach((shard, indexes) -> {
      List<AppendRequest> mine = new ArrayList<>();
      indexes.forEach(i -> mine.add(requests.get(i)));
      Future<List<AppendResult>> done = store.isDown(shard)
          ? Future.failedFuture(new IllegalStateException("inbox shard " + shard + " is down"))
          : store.within(shard, shards.get(shard).append(mine, List.of(), now));
      firsts.add(done
          .onSuccess(answers -> {
            for (int k = 0; k < indexes.size(); k++) {
              results[indexes.get(k)] = answers.get(k);
            }
          })
          .onFailure(e -> {
            store.markDown(shard, e);
            indexes.forEach(i -> results[i] = unavailable(requests.get(i)));
          })
          .otherwiseEmpty());
    });
    return Future.all(firsts).compose(x -> copies(requests, results)).compose(copies -> storeElsewhere(copies))
        .map(stored -> {
          List<AppendResult> merged = new ArrayList<>(results.length);
          for (int i = 0; i < results.length; i++) {
            AppendResult result = results[i];
            merged.add(result.duplicate() || result.roomSeq() == 0 ? result
                : withCopies(requests.get(i), result, stored));
          }
          return merged;
        });
  }

  private static AppendResult unavailable(AppendRequest request) {
    return new AppendResult(false, List.of(RecipientResult.refused(request.room(), ErrorCode.UNAVAILABLE)),
        request.room(), 0);
  }

  /**
   * The copies the room's shards left to the others, by shard: the members answered
   * {@link AppendPlanner#NOT_HERE}; for a replayed send, the members who were in the room at its
   * roomSeq and are still, so that a shard that missed the first try stores them now.
   */
  private Future<Map<Integer, List<StoredMessage>>> copies(List<AppendRequest> requests, AppendResult[] results) {
    Map<Integer, List<StoredMessage>> byShard = new TreeMap<>();
    List<Future<?>> lookups = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      AppendRequest request = requests.get(i);
      AppendResult result = results[i];
      if (result.roomSeq() == 0) {
        continue;
      }
      int roomShard = map.shardOf(request.room());
      if (result.duplicate() && Senders.isAnyReceipt(request.from())) {
        // A receipt has no roomSeq of its own to find its first members by: a retry stores nothing more.
        continue;
      }
      if (!result.duplicate()) {
        for (RecipientResult r : result.results()) {
          if (r.error() == AppendPlanner.NOT_HERE) {
            add(byShard, copy(request, r.to(), result.roomSeq(), request.ts()));
          }
        }
        continue;
      }
      // The first try's time, so that the copies stored now expire with those stored then.
      long ts = result.results().get(0).ts();
      lookups.add(shards.get(roomShard).membersBefore(request.room(), result.roomSeq()).onSuccess(members -> {
        for (String member : members) {
          if (map.shardOf(member) != roomShard) {
            add(byShard, copy(request, member, result.roomSeq(), ts));
          }
        }
      }));
    }
    return Future.all(lookups).map(x -> byShard);
  }

  private void add(Map<Integer, List<StoredMessage>> byShard, StoredMessage copy) {
    byShard.computeIfAbsent(map.shardOf(copy.to()), k -> new ArrayList<>()).add(copy);
  }

  private static StoredMessage copy(AppendRequest request, String member, long roomSeq, long ts) {
    if (Senders.isAnyReceipt(request.from())) {
      // A receipt about the room is a plain receipt row, as the room's shard stores its own.
      return new StoredMessage(request.roomMsgId(), 0, request.from(), member, request.body(), ts);
    }
    return new StoredMessage(request.roomMsgId(), 0, request.from(), member, request.body(), ts, request.room(),
        roomSeq, null);
  }

  /** Each shard stores its copies, all at once; what a failed or down shard was to store is absent from the answer. */
  private Future<Map<List<Object>, StoredMessage>> storeElsewhere(Map<Integer, List<StoredMessage>> byShard) {
    Map<List<Object>, StoredMessage> stored = new HashMap<>();
    List<Future<?>> done = new ArrayList<>();
    byShard.forEach((shard, copies) -> {
      if (store.isDown(shard)) {
        return;
      }
      done.add(store.within(shard, shards.get(shard).storeRoomCopies(copies))
          .onSuccess(written -> written.forEach(m -> stored.put(key(m), m)))
          .onFailure(e -> store.markDown(shard, e))
          .otherwiseEmpty());
    });
    return Future.all(done).map(x -> stored);
  }

  /** A stored copy's key: its room message and member, or for a receipt (no room on its row) its msgId and member. */
  private static List<Object> key(StoredMessage m) {
    return m.room() == null ? List.of(m.msgId(), m.to()) : List.of(m.room(), m.roomSeq(), m.to());
  }

  /** The room shard's answer with each member of another shard answered as that shard stored it. */
  private AppendResult withCopies(AppendRequest request, AppendResult result, Map<List<Object>, StoredMessage> stored) {
    boolean receipt = Senders.isAnyReceipt(request.from());
    List<RecipientResult> merged = new ArrayList<>(result.results().size());
    for (RecipientResult r : result.results()) {
      if (r.error() != AppendPlanner.NOT_HERE) {
        merged.add(r);
        continue;
      }
      int shard = map.shardOf(r.to());
      StoredMessage m = stored.get(receipt ? List.of(request.roomMsgId(), r.to()) : List.of(result.room(), result.roomSeq(), r.to()));
      if (m != null) {
        merged.add(RecipientResult.stored(r.to(), m.msgId(), m.seq(), m.ts()));
      } else if (store.isDown(shard)) {
        merged.add(r);
      } else {
        // The shard answered without storing it: the member's inbox is full.
        merged.add(RecipientResult.refused(r.to(), ErrorCode.INBOX_FULL));
      }
    }
    return new AppendResult(false, merged, result.room(), result.roomSeq());
  }

  /**
   * The member's rooms on the other shards are counted first (the room's shard counts its own in the
   * change's transaction), then the room's shard commits the change and its members' events, then
   * the other shards store their members' events. The count across shards is not atomic with the
   * change: two changes about one member committed at once on two nodes may pass the limit by one.
   */
  Future<RoomChangeResult> change(RoomChange change) {
    int roomShard = map.shardOf(change.room());
    String about = RoomChangePlanner.about(change);
    List<Future<List<String>>> counted = new ArrayList<>();
    if (change.op() != RoomChange.Op.REMOVE) {
      for (int i = 0; i < shards.size(); i++) {
        if (i != roomShard) {
          counted.add(shards.get(i).rooms(about));
        }
      }
    }
    return Future.all(counted)
        .compose(x -> {
          int elsewhere = counted.stream().mapToInt(f -> f.result().size()).sum();
          return store.within(roomShard, shards.get(roomShard).changeRoomHere(change, elsewhere));
        })
        .compose(plan -> {
          if (plan.refused() != null) {
            return Future.succeededFuture(RoomChangeResult.refused(plan.refused()));
          }
          Map<Integer, List<StoredMessage>> byShard = new TreeMap<>();
          plan.elsewhere().forEach(e -> add(byShard, e));
          return storeElsewhere(byShard).map(stored -> {
            Map<String, StoredMessage> events = new HashMap<>();
            plan.events().forEach(e -> events.put(e.to(), e));
            stored.values().forEach(e -> events.put(e.to(), e));
            List<StoredMessage> ordered = new ArrayList<>(plan.told().size());
            for (String member : plan.told()) {
              StoredMessage event = events.get(member);
              if (event != null) {
                ordered.add(event);
              } else if (map.shardOf(member) != roomShard) {
                LOG.warn("room {} event {} not stored for {}: inbox shard {} is down", change.room(), plan.roomSeq(),
                    member, map.shardOf(member));
              }
            }
            return new RoomChangeResult(null, plan.roomSeq(), ordered);
          });
        });
  }
}
