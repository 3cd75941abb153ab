package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomChangeResult;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.ReadRequest;
import dev.switchboard.config.InboxConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The PostgreSQL engine over the databases of {@code inbox.postgresUris}: each user's inbox, cursors
 * and the keys of their sends live on the shard {@link ShardMap} gives. A group commit becomes one
 * transaction per shard it touches, run at once; {@link ShardSplit} decides which and merges the
 * answers. With one database this is exactly {@link PgInboxStore}.
 */
public final class ShardedInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(ShardedInboxStore.class);

  private final ShardMap map;
  private final List<PgInboxStore> shards = new ArrayList<>();
  /** Cursor moves a failed shard did not write: they go with the next commit, as the inbox re-queues a failed one's. */
  private final List<CursorUpdate> unwrittenCursors = new ArrayList<>();
  /**
   * Shards taken as down: their last commit failed or did not answer within
   * {@code inbox.postgresShardTimeoutMillis}. Commits skip them (their recipients are answered
   * {@code unavailable} at once, so that a hung shard does not hold every commit for its timeout)
   * until they answer a probe.
   */
  private final Set<Integer> down = new HashSet<>();
  private final Set<Integer> probing = new HashSet<>();
  private final Vertx vertx;
  private final long shardTimeoutMillis;
  private final ShardedRooms rooms;
  private long probeTimer = -1;

  public ShardedInboxStore(Vertx vertx, InboxConfig config) {
    this.vertx = vertx;
    this.shardTimeoutMillis = config.postgresShardTimeoutMillis();
    List<String> uris = config.postgresUris();
    this.map = new ShardMap(uris.size());
    for (int i = 0; i < uris.size(); i++) {
      shards.add(new PgInboxStore(vertx, config, uris.get(i), i, map));
    }
    this.rooms = new ShardedRooms(map, shards, this);
  }

  /**
   * Every shard must open, and be where it was: a missing one would leave its users without an
   * inbox, a moved one would answer for users it does not hold. Each shard is checked before any
   * is claimed, so a refused start marks no database.
   */
  @Override
  public Future<Void> open() {
    return all(shard -> shard.open())
        .compose(x -> all(shard -> shard.checkShard(false)))
        .compose(x -> all(shard -> shard.checkShard(true)))
        .recover(e -> close().transform(x -> Future.failedFuture(e)));
  }

  /** Runs {@code step} on every shard at once; fails with the first shard's failure once all are done. */
  private Future<Void> all(Function<PgInboxStore, Future<Void>> step) {
    List<Future<Void>> done = new ArrayList<>();
    shards.forEach(shard -> done.add(step.apply(shard)));
    return Future.join(done).<Void>mapEmpty().recover(e -> Future.failedFuture(
        done.stream().filter(Future::failed).findFirst().map(Future::cause).orElse(e)));
  }

  /**
   * With several shards a commit never fails as a whole: each recipient of a failed, hung or down
   * shard is answered {@code unavailable} (a keyed send's recipients all are when its sender's
   * shard is), so that one lost shard neither fails nor holds the other shards' users, nor marks
   * the node unready.
   */
  @Override
  public Future<List<AppendResult>> append(List<AppendRequest> batch, List<CursorUpdate> cursors, long now) {
    if (shards.size() == 1) {
      return shards.get(0).append(batch, cursors, now);
    }
    if (batch.stream().noneMatch(AppendRequest::isRoom)) {
      return appendDirect(batch, cursors, now);
    }
    List<AppendRequest> direct = batch.stream().filter(r -> !r.isRoom()).toList();
    List<AppendRequest> toRooms = batch.stream().filter(AppendRequest::isRoom).toList();
    return appendDirect(direct, cursors, now)
        .compose(directResults -> rooms.append(toRooms, now).map(roomResults -> {
          // Back in the order of the batch.
          List<AppendResult> results = new ArrayList<>(batch.size());
          int d = 0;
          int r = 0;
          for (AppendRequest request : batch) {
            results.add(request.isRoom() ? roomResults.get(r++) : directResults.get(d++));
          }
          return results;
        }));
  }

  private Future<List<AppendResult>> appendDirect(List<AppendRequest> batch, List<CursorUpdate> cursors, long now) {
    ShardSplit split = new ShardSplit(map, batch);
    Map<Integer, List<CursorUpdate>> cursorsByShard = new HashMap<>();
    List<CursorUpdate> moves = new ArrayList<>(unwrittenCursors);
    moves.addAll(cursors);
    unwrittenCursors.clear();
    moves.forEach(c -> cursorsByShard.computeIfAbsent(map.shardOf(c.user()), k -> new ArrayList<>()).add(c));
    return run(split, split.phaseOne(), cursorsByShard, batch, now)
        .compose(x -> run(split, split.phaseTwo(), Map.of(), batch, now))
        .map(x -> {
          split.failures().forEach((shard, e) -> {
            markDown(shard, e);
            // One per device, the highest: a shard down for long must not grow this list commit by commit.
            unwrittenCursors.addAll(InboxRows.highestPerDevice(cursorsByShard.getOrDefault(shard, List.of())));
          });
          return split.results();
        });
  }

  /** Takes a shard whose commit failed or hung as down, until it answers a probe. */
  void markDown(int shard, Throwable e) {
    if (down.add(shard)) {
      LOG.warn("inbox shard {} failed a commit; its recipients are answered unavailable until it answers "
          + "again: {}", shard, e.toString());
      startProbing();
    }
  }

  boolean isDown(int shard) {
    return down.contains(shard);
  }

  /** One transaction on each shard with work, at once; completes when all have answered or failed. */
  private Future<Void> run(ShardSplit split, Map<Integer, List<Integer>> work, Map<Integer, List<CursorUpdate>> cursors,
                           List<AppendRequest> batch, long now) {
    Map<Integer, List<Integer>> all = new HashMap<>(work);
    cursors.keySet().forEach(shard -> all.putIfAbsent(shard, List.of()));
    List<Future<?>> done = new ArrayList<>(all.size());
    all.forEach((shard, indexes) -> {
      if (down.contains(shard)) {
        split.failed(shard, new IllegalStateException("inbox shard " + shard + " is down"));
        return;
      }
      List<AppendRequest> requests = new ArrayList<>(indexes.size());
      indexes.forEach(i -> requests.add(batch.get(i)));
      done.add(within(shard, shards.get(shard).append(requests, cursors.getOrDefault(shard, List.of()), now))
          .onSuccess(results -> split.answered(shard, indexes, results))
          .onFailure(e -> split.failed(shard, e))
          .otherwiseEmpty());
    });
    return Future.all(done).mapEmpty();
  }

  /**
   * A user's page comes from their shard. The health probe's is read from every shard at once and
   * answered by the first that answers: a node is healthy while any shard is, since the loss of one
   * fails only its own users' sends, and taking every node out of service would fail everyone's.
   */
  /**
   * {@code step}, or a failure once {@code inbox.postgresShardTimeoutMillis} have passed without it.
   * The step may still complete later: a commit answered {@code unavailable} this way may be stored,
   * which a retry with the same id answers as stored.
   */
  <T> Future<T> within(int shard, Future<T> step) {
    Promise<T> bounded = Promise.promise();
    long timer = vertx.setTimer(shardTimeoutMillis, id -> bounded.tryFail(new TimeoutException(
        "inbox shard " + shard + " did not answer within inbox.postgresShardTimeoutMillis (" + shardTimeoutMillis + " ms)")));
    step.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        bounded.tryComplete(ar.result());
      } else {
        bounded.tryFail(ar.cause());
      }
    });
    return bounded.future();
  }

  /** Pings each down shard every {@code inbox.postgresShardTimeoutMillis}, one ping at a time, until all answer. */
  private void startProbing() {
    if (probeTimer >= 0) {
      return;
    }
    probeTimer = vertx.setPeriodic(shardTimeoutMillis, id -> {
      for (int shard : List.copyOf(down)) {
        if (probing.add(shard)) {
          within(shard, shards.get(shard).ping())
              .onSuccess(v -> {
                down.remove(shard);
                LOG.info("inbox shard {} answers again; commits go to it", shard);
              })
              .onComplete(ar -> probing.remove(shard));
        }
      }
      if (down.isEmpty()) {
        vertx.cancelTimer(probeTimer);
        probeTimer = -1;
      }
    });
  }

  @Override
  public Future<InboxPage> read(String user, long after, int limit, long now) {
    if (shards.size() > 1 && user.equals(ReadRequest.PROBE_USER)) {
      List<Future<InboxPage>> pages = new ArrayList<>();
      shards.forEach(shard -> pages.add(shard.read(user, after, limit, now)));
      return Future.any(pages).map(x -> pages.stream().filter(Future::succeeded).findFirst().orElseThrow().result());
    }
    return shards.get(map.shardOf(user)).read(user, after, limit, now);
  }

  /** Each shard reads its own users' pages together; the health probe's read goes to every shard, as in {@link #read}. */
  @Override
  public List<Future<InboxPage>> readPages(List<ReadRequest> reads, long now) {
    List<Future<InboxPage>> pages = new ArrayList<>(reads.size());
    Map<Integer, List<Integer>> byShard = new HashMap<>();
    for (int i = 0; i < reads.size(); i++) {
      ReadRequest read = reads.get(i);
      if (shards.size() > 1 && read.user().equals(ReadRequest.PROBE_USER)) {
        pages.add(InboxStore.super.readPages(List.of(read), now).get(0));
      } else {
        pages.add(null);
        byShard.computeIfAbsent(map.shardOf(read.user()), s -> new ArrayList<>()).add(i);
      }
    }
    byShard.forEach((shard, places) -> {
      List<Future<InboxPage>> read = shards.get(shard).readPages(places.stream().map(reads::get).toList(), now);
      for (int k = 0; k < places.size(); k++) {
        pages.set(places.get(k), read.get(k));
      }
    });
    return pages;
  }

  @Override
  public Future<RoomChangeResult> changeRoom(RoomChange change, long now) {
    return shards.size() == 1 ? shards.get(0).changeRoom(change, now) : rooms.change(change);
  }

  @Override
  public Future<RoomInfo> room(String room) {
    return shards.get(map.shardOf(room)).room(room);
  }

  /** A user's rooms are held by the rooms' shards: every shard is asked, and all must answer. */
  @Override
  public Future<List<String>> rooms(String user) {
    List<Future<List<String>>> asked = new ArrayList<>();
    shards.forEach(shard -> asked.add(shard.rooms(user)));
    return Future.all(asked).map(x -> {
      List<String> all = new ArrayList<>();
      asked.forEach(f -> all.addAll(f.result()));
      all.sort(null);
      return all;
    });
  }

  @Override
  public Future<Long> cursor(String user, String device) {
    return shards.get(map.shardOf(user)).cursor(user, device);
  }

  /** Each shard is asked for its own devices; those of a shard that fails or does not answer are left out. */
  @Override
  public Future<Map<DeviceKey, Long>> cursors(Collection<DeviceKey> devices) {
    Map<Integer, List<DeviceKey>> byShard = new HashMap<>();
    devices.forEach(k -> byShard.computeIfAbsent(map.shardOf(k.user()), s -> new ArrayList<>()).add(k));
    List<Future<Map<DeviceKey, Long>>> asked = new ArrayList<>();
    // At DEBUG: a shard that is down fails every batch's read, and its commits already say so at WARN.
    byShard.forEach((shard, keys) -> asked.add(within(shard, shards.get(shard).cursors(keys))
        .onFailure(e -> LOG.debug("cursors of {} devices on inbox shard {} not read: {}", keys.size(), shard, e.getMessage()))));
    return Future.join(asked).transform(x -> {
      Map<DeviceKey, Long> found = new HashMap<>();
      asked.stream().filter(Future::succeeded).forEach(f -> found.putAll(f.result()));
      return Future.succeededFuture(found);
    });
  }

  /** Every shard purges on its own; one that fails does not keep the others from it. */
  @Override
  public Future<Long> purge(long now) {
    List<Future<Long>> purged = new ArrayList<>();
    shards.forEach(shard -> purged.add(shard.purge(now)));
    return Future.join(purged).map(x -> purged.stream().mapToLong(Future::result).sum());
  }

  @Override
  public Future<Void> close() {
    vertx.cancelTimer(probeTimer);
    probeTimer = -1;
    List<Future<Void>> closed = new ArrayList<>();
    shards.forEach(shard -> closed.add(shard.close()));
    return Future.join(closed).mapEmpty();
  }
}
