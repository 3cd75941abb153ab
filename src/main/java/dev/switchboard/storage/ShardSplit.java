package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.protocol.ErrorCode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * How one group commit goes to the shards, and how their answers make each send's answer. Pure
 * logic, one object per commit: the sharded store runs the phases and records what each shard said.
 *
 * <p>Phase one: every unkeyed send goes to the shards of its recipients; every keyed send goes
 * first to its sender's shard alone, which holds the key's record for the whole send. Phase two: a
 * keyed send's other shards, unless the sender's shard failed or refused the key as reused, so
 * that a reused key never stores copies anywhere. Every shard is given whole requests and writes
 * only the recipients it holds, keeping a record of the key for its part, so a retry after a
 * shard failed completes that shard's part and replays the others'.
 *
 * <p>A recipient whose shard failed is answered {@code unavailable}.
 */
final class ShardSplit {

  private final ShardMap map;
  private final List<AppendRequest> batch;
  /** Per request, per shard: what the shard answered (absent: not asked, or failed). */
  private final List<Map<Integer, AppendResult>> answers;
  private final Map<Integer, Throwable> failed = new HashMap<>();

  ShardSplit(ShardMap map, List<AppendRequest> batch) {
    this.map = map;
    this.batch = batch;
    this.answers = new ArrayList<>(batch.size());
    batch.forEach(r -> answers.add(new HashMap<>()));
  }

  private int senderShard(AppendRequest request) {
    return map.shardOf(request.from());
  }

  private TreeSet<Integer> owners(AppendRequest request) {
    TreeSet<Integer> shards = new TreeSet<>();
    request.recipients().forEach(r -> shards.add(map.shardOf(r.to())));
    return shards;
  }

  /** Per shard, the indexes of the requests it commits in phase one. */
  Map<Integer, List<Integer>> phaseOne() {
    Map<Integer, List<Integer>> work = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      AppendRequest request = batch.get(i);
      if (request.idempotencyKey() != null) {
        work.computeIfAbsent(senderShard(request), k -> new ArrayList<>()).add(i);
      } else {
        for (int shard : owners(request)) {
          work.computeIfAbsent(shard, k -> new ArrayList<>()).add(i);
        }
      }
    }
    return work;
  }

  /** Per shard, the keyed requests it commits in phase two, once phase one's answers are recorded. */
  Map<Integer, List<Integer>> phaseTwo() {
    Map<Integer, List<Integer>> work = new HashMap<>();
    for (int i = 0; i < batch.size(); i++) {
      AppendRequest request = batch.get(i);
      if (request.idempotencyKey() == null) {
        continue;
      }
      int sender = senderShard(request);
      AppendResult keyed = answers.get(i).get(sender);
      if (keyed == null || reused(keyed)) {
        continue;
      }
      for (int shard : owners(request)) {
        if (shard != sender) {
          work.computeIfAbsent(shard, k -> new ArrayList<>()).add(i);
        }
      }
    }
    return work;
  }

  private static boolean reused(AppendResult result) {
    return !result.results().isEmpty() && result.results().stream().allMatch(r -> r.error() == ErrorCode.ID_REUSED);
  }

  /** Records a shard's answers to the requests it was given, in the order given. */
  void answered(int shard, List<Integer> requests, List<AppendResult> results) {
    for (int k = 0; k < requests.size(); k++) {
      answers.get(requests.get(k)).put(shard, results.get(k));
    }
  }

  void failed(int shard, Throwable cause) {
    failed.putIfAbsent(shard, cause);
  }

  Map<Integer, Throwable> failures() {
    return failed;
  }

  /** Each request's answer, in request order, from its shards' answers. */
  List<AppendResult> results() {
    List<AppendResult> results = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      results.add(merge(batch.get(i), answers.get(i)));
    }
    return results;
  }

  private AppendResult merge(AppendRequest request, Map<Integer, AppendResult> byShard) {
    List<String> order = request.recipients().stream().map(AppendRequest.Recipient::to).toList();
    if (request.idempotencyKey() != null) {
      AppendResult keyed = byShard.get(senderShard(request));
      if (keyed == null) {
        return refuseAll(request);
      }
      if (reused(keyed)) {
        return keyed;
      }
      // The sender's shard lists every recipient as first sent: a retry listing them in another order
      // is answered in the first order, as one database answers it.
      order = keyed.results().stream().map(RecipientResult::to).toList();
    }
    // Per shard, its answers for each recipient name in its order.
    Map<Integer, Map<String, ArrayDeque<RecipientResult>>> pools = new HashMap<>();
    boolean duplicate = true;
    List<RecipientResult> out = new ArrayList<>(order.size());
    for (String to : order) {
      int shard = map.shardOf(to);
      AppendResult answer = byShard.get(shard);
      RecipientResult result = null;
      if (answer != null) {
        duplicate &= answer.duplicate();
        ArrayDeque<RecipientResult> mine = pools.computeIfAbsent(shard, s -> byName(answer))
            .getOrDefault(to, new ArrayDeque<>());
        result = mine.poll();
      }
      if (result == null) {
        duplicate = false;
        result = RecipientResult.refused(to, ErrorCode.UNAVAILABLE);
      }
      out.add(result);
    }
    return new AppendResult(duplicate && !out.isEmpty(), out);
  }

  private static Map<String, ArrayDeque<RecipientResult>> byName(AppendResult answer) {
    Map<String, ArrayDeque<RecipientResult>> names = new HashMap<>();
    answer.results().forEach(r -> names.computeIfAbsent(r.to(), k -> new ArrayDeque<>()).add(r));
    return names;
  }

  private static AppendResult refuseAll(AppendRequest request) {
    List<RecipientResult> refused = new ArrayList<>(request.recipients().size());
    request.recipients().forEach(r -> refused.add(RecipientResult.refused(r.to(), ErrorCode.UNAVAILABLE)));
    return new AppendResult(false, refused);
  }
}
