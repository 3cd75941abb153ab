package dev.switchboard.storage;

import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.protocol.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RoomChangePlannerTest {

  private static final RoomRules RULES = new RoomRules(3, 10, 100);
  private static final RoomRules.View ROOM = new RoomRules.View("alice", new LinkedHashSet<>(List.of("alice", "bob")), 7);

  private static RoomChange change(RoomChange.Op op, String member, String by) {
    return new RoomChange(op, "r", member, by, false, "e1", 1000);
  }

  @Test
  @DisplayName("a removal takes the next roomSeq and tells every member before it, the one removed too, each under its next seq")
  void removalTellsEveryoneBefore() {
    RoomChangePlanner.Plan plan = new RoomChangePlanner(RULES, user -> true)
        .plan(change(RoomChange.Op.REMOVE, "bob", "alice"), ROOM, 1, Map.of("bob", new InboxHead(4, 4)));
    assertEquals(8, plan.roomSeq());
    assertEquals(List.of("alice:1", "bob:5"), plan.events().stream().map(e -> e.to() + ":" + e.seq()).toList());
    assertEquals(List.of("removed"), plan.events().stream().map(StoredMessage::event).distinct().toList());
    assertEquals(List.of("bob"), plan.events().stream().map(StoredMessage::body).distinct().toList());
    assertEquals(new InboxHead(5, 5), plan.heads().get("bob"));
  }

  @Test
  @DisplayName("members of other shards get their event without a seq; refusals and adding a member again write nothing")
  void otherShardsAndNothingToWrite() {
    RoomChangePlanner.Plan plan = new RoomChangePlanner(RULES, user -> !user.equals("carol"))
        .plan(change(RoomChange.Op.ADD, "carol", "alice"), ROOM, 0, Map.of());
    assertEquals(List.of("alice", "bob"), plan.events().stream().map(StoredMessage::to).toList());
    assertEquals(List.of("carol:0"), plan.elsewhere().stream().map(e -> e.to() + ":" + e.seq()).toList());
    assertEquals(List.of("alice", "bob", "carol"), plan.told());

    RoomChangePlanner planner = new RoomChangePlanner(RULES, user -> true);
    assertEquals(ErrorCode.TOO_MANY_ROOMS, planner.plan(change(RoomChange.Op.ADD, "carol", "alice"), ROOM, 10, Map.of()).refused());
    RoomChangePlanner.Plan again = planner.plan(change(RoomChange.Op.ADD, "bob", "alice"), ROOM, 1, Map.of());
    assertFalse(again.writes());
    assertEquals(7, again.roomSeq());
  }
}
