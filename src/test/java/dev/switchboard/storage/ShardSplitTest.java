package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.protocol.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With two shards, bob and carol are on shard 0, alice and dave on shard 1 ({@link ShardMapTest}). */
class ShardSplitTest {

  private static final ShardMap TWO = new ShardMap(2);

  private static AppendRequest send(String from, String key, String... to) {
    List<AppendRequest.Recipient> recipients = java.util.Arrays.stream(to)
        .map(t -> new AppendRequest.Recipient(t, "m-" + t)).toList();
    return new AppendRequest(from, "hi", 5, key, recipients);
  }

  /** What a shard's planner answers: its own recipients stored, the others not here. */
  private static AppendResult shardAnswer(int shard, AppendRequest request, boolean duplicate) {
    return new AppendResult(duplicate, request.recipients().stream()
        .map(r -> TWO.shardOf(r.to()) == shard
            ? RecipientResult.stored(r.to(), r.msgId(), 1, 5)
            : RecipientResult.refused(r.to(), AppendPlanner.NOT_HERE))
        .toList());
  }

  @Test
  @DisplayName("an unkeyed send goes to the shards of its recipients at once; its answer takes each recipient's "
      + "result from that recipient's shard, in request order")
  void unkeyedSpansShards() {
    AppendRequest both = send("alice", null, "bob", "dave", "carol");
    ShardSplit split = new ShardSplit(TWO, List.of(both));
    assertEquals(Map.of(0, List.of(0), 1, List.of(0)), split.phaseOne());
    split.answered(0, List.of(0), List.of(shardAnswer(0, both, false)));
    split.answered(1, List.of(0), List.of(shardAnswer(1, both, false)));
    assertEquals(Map.of(), split.phaseTwo());
    AppendResult merged = split.results().get(0);
    assertEquals(List.of("bob", "dave", "carol"), merged.results().stream().map(RecipientResult::to).toList());
    assertTrue(merged.results().stream().allMatch(RecipientResult::isStored));
  }

  @Test
  @DisplayName("a keyed send goes to its sender's shard first and to its other shards only after, unless the key "
      + "was refused as reused there")
  void keyedGoesToTheSenderFirst() {
    AppendRequest keyed = send("bob", "k", "dave");
    AppendRequest reused = send("carol", "k", "alice");
    ShardSplit split = new ShardSplit(TWO, List.of(keyed, reused));
    assertEquals(Map.of(0, List.of(0, 1)), split.phaseOne());
    split.answered(0, List.of(0, 1), List.of(shardAnswer(0, keyed, false),
        new AppendResult(false, List.of(RecipientResult.refused("alice", ErrorCode.ID_REUSED)))));
    assertEquals(Map.of(1, List.of(0)), split.phaseTwo());
    split.answered(1, List.of(0), List.of(shardAnswer(1, keyed, false)));
    List<AppendResult> results = split.results();
    assertTrue(results.get(0).results().get(0).isStored());
    assertEquals(ErrorCode.ID_REUSED, results.get(1).results().get(0).error());
  }

  @Test
  @DisplayName("a failed shard's recipients are answered unavailable while the other shard's are stored, and a "
      + "keyed send whose sender's shard failed goes nowhere else")
  void failedShard() {
    AppendRequest both = send("alice", null, "bob", "dave");
    ShardSplit split = new ShardSplit(TWO, List.of(both));
    split.failed(0, new IllegalStateException("down"));
    split.answered(1, List.of(0), List.of(shardAnswer(1, both, false)));
    AppendResult merged = split.results().get(0);
    assertEquals(ErrorCode.UNAVAILABLE, merged.results().get(0).error());
    assertTrue(merged.results().get(1).isStored());
    assertFalse(merged.duplicate());

    ShardSplit keyed = new ShardSplit(TWO, List.of(send("bob", "k", "dave")));
    keyed.failed(0, new IllegalStateException("down"));
    assertEquals(Map.of(), keyed.phaseTwo(), "nothing goes to dave's shard when the key could not be kept");
    assertEquals(ErrorCode.UNAVAILABLE, keyed.results().get(0).results().get(0).error());
  }

  @Test
  @DisplayName("a retry after a failed shard replays the other shard's part and stores the missing one: the "
      + "answer is not a duplicate, and lists the first copies where they were kept")
  void retryCompletesTheMissingPart() {
    AppendRequest keyed = send("bob", "k", "carol", "dave");
    ShardSplit split = new ShardSplit(TWO, List.of(keyed));
    split.answered(0, List.of(0), List.of(shardAnswer(0, keyed, true)));
    split.answered(1, List.of(0), List.of(shardAnswer(1, keyed, false)));
    AppendResult merged = split.results().get(0);
    assertFalse(merged.duplicate());
    assertTrue(merged.results().stream().allMatch(RecipientResult::isStored));
  }
}
