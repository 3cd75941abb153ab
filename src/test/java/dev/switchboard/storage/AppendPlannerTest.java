package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.protocol.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AppendPlannerTest {

  private static AppendRequest request(String key, String... to) {
    List<AppendRequest.Recipient> recipients = java.util.Arrays.stream(to)
        .map(t -> new AppendRequest.Recipient(t, "id-" + t + "-" + key)).toList();
    return new AppendRequest("alice", "body", 1000, key, recipients);
  }

  @Test
  @DisplayName("each copy gets the next seq of its inbox, continuing from the stored head")
  void seqsContinueFromHead() {
    AppendPlanner.Plan plan = new AppendPlanner(10).plan(
        List.of(request(null, "bob", "carol"), request(null, "bob")),
        Map.of("bob", new InboxHead(7, 2)), Map.of());
    assertEquals(8, plan.results().get(0).results().get(0).seq());
    assertEquals(1, plan.results().get(0).results().get(1).seq());
    assertEquals(9, plan.results().get(1).results().get(0).seq());
    assertEquals(new InboxHead(9, 4), plan.heads().get("bob"));
    assertEquals(3, plan.rows().size());
  }

  @Test
  @DisplayName("a full inbox refuses the copy without using a seq")
  void capRefuses() {
    AppendPlanner.Plan plan = new AppendPlanner(2).plan(
        List.of(request(null, "bob"), request(null, "bob")), Map.of("bob", new InboxHead(5, 1)), Map.of());
    assertEquals(6, plan.results().get(0).results().get(0).seq());
    assertEquals(ErrorCode.INBOX_FULL, plan.results().get(1).results().get(0).error());
    assertEquals(new InboxHead(6, 2), plan.heads().get("bob"));
  }

  @Test
  @DisplayName("a repeated key replays the first result, from the store or from the same batch")
  void idempotentKeys() {
    AppendPlanner.KeyedResult stored = new AppendPlanner(10).plan(List.of(request("k0", "bob")), Map.of(), Map.of())
        .newKeys().get(0).keyed();
    AppendPlanner.Plan plan = new AppendPlanner(10).plan(
        List.of(request("k0", "bob"), request("k1", "bob"), request("k1", "bob")),
        Map.of("bob", new InboxHead(1, 1)), Map.of(new AppendPlanner.SendKey("alice", "k0"), stored));
    assertTrue(plan.results().get(0).duplicate());
    assertEquals(stored.result().results(), plan.results().get(0).results());
    assertEquals(2, plan.results().get(1).results().get(0).seq());
    assertTrue(plan.results().get(2).duplicate());
    assertEquals(2, plan.results().get(2).results().get(0).seq());
    assertEquals(1, plan.rows().size());
    assertEquals(1, plan.newKeys().size());
  }

  @Test
  @DisplayName("a key reused for a different message is refused with id_reused instead of swallowing the message")
  void reusedKeyForAnotherMessage() {
    AppendRequest first = request("k", "bob");
    AppendRequest other = new AppendRequest("alice", "another body", 1000, "k", first.recipients());
    AppendPlanner.Plan plan = new AppendPlanner(10).plan(List.of(first, other), Map.of(), Map.of());
    assertEquals(ErrorCode.ID_REUSED, plan.results().get(1).results().get(0).error());
    assertEquals(1, plan.rows().size());
  }

  @Test
  @DisplayName("a key reused for a body whose String hash collides with the first (\"Aa\" / \"BB\") is still id_reused")
  void collidingBodiesAreDifferentMessages() {
    assertEquals("Aa".hashCode(), "BB".hashCode());
    List<AppendRequest.Recipient> to = List.of(new AppendRequest.Recipient("bob", "m-1"));
    AppendRequest first = new AppendRequest("alice", "Aa", 1000, "k", to);
    AppendRequest other = new AppendRequest("alice", "BB", 1000, "k", to);
    AppendPlanner.Plan plan = new AppendPlanner(10).plan(List.of(first, other), Map.of(), Map.of());
    assertEquals(ErrorCode.ID_REUSED, plan.results().get(1).results().get(0).error());
    assertEquals(1, plan.rows().size());
  }

  @Test
  @DisplayName("a retry naming the same recipients in another order is the same send; another sender, recipient or body is not")
  void fingerprintCoversSenderRecipientSetAndBody() {
    AppendRequest sent = request("k", "bob", "carol");
    AppendRequest reordered = new AppendRequest("alice", "body", 2000, "k", List.of(
        new AppendRequest.Recipient("carol", "other-id"), new AppendRequest.Recipient("bob", "other-id-2")));
    assertEquals(AppendPlanner.fingerprint(sent), AppendPlanner.fingerprint(reordered));
    // Where one field ends and the next begins is part of what is hashed.
    assertTrue(!AppendPlanner.fingerprint(request("k", "bob", "carol")).equals(AppendPlanner.fingerprint(request("k", "bobcarol"))));
    assertTrue(!AppendPlanner.fingerprint(sent).equals(AppendPlanner.fingerprint(
        new AppendRequest("mallory", "body", 1000, "k", sent.recipients()))));
    assertTrue(!AppendPlanner.fingerprint(sent).equals(AppendPlanner.fingerprint(request("k", "bob"))));
    assertEquals(64, AppendPlanner.fingerprint(sent).length(), "hex of SHA-256");
  }

  @Test
  @DisplayName("a key stored by a build before SHA-256 fingerprints still replays for the same send (a retry right after an upgrade)")
  void legacyFingerprintStillMatches() {
    AppendRequest sent = request("k", "bob");
    AppendPlanner.KeyedResult stored = new AppendPlanner.KeyedResult(AppendPlanner.legacyFingerprint(sent),
        new AppendPlanner(10).plan(List.of(sent), Map.of(), Map.of()).results().get(0));
    AppendPlanner.Plan plan = new AppendPlanner(10).plan(List.of(sent), Map.of("bob", new InboxHead(1, 1)),
        Map.of(new AppendPlanner.SendKey("alice", "k"), stored));
    assertTrue(plan.results().get(0).duplicate());
    assertEquals(0, plan.rows().size());
  }
  @Test
  @DisplayName("a shard's planner stores a room message for the members it holds and answers the others not_here, "
      + "with the room's next roomSeq for all")
  void roomMembersOfOtherShards() {
    RoomRules.View room = new RoomRules.View("alice", new java.util.LinkedHashSet<>(List.of("alice", "bob", "carol")), 4);
    AppendPlanner.Plan plan = new AppendPlanner(10, user -> !user.equals("bob"), Integer.MAX_VALUE).plan(
        List.of(AppendRequest.toRoom("alice", "r", "m1", "hi", 1000, null, false)), Map.of("carol", new InboxHead(2, 2)),
        Map.of(), id -> room);
    AppendResult result = plan.results().get(0);
    assertEquals(5, result.roomSeq());
    assertEquals(List.of(1L, 0L, 3L), result.results().stream().map(r -> r.seq()).toList());
    assertEquals(AppendPlanner.NOT_HERE, result.results().get(1).error());
    assertEquals(List.of("alice", "carol"), plan.rows().stream().map(m -> m.to()).toList());
    assertEquals(Map.of("r", 5L), plan.roomSeqs());
  }
}
