package dev.switchboard.storage;

import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.protocol.ErrorCode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Decides what a room change writes in the SQL engines, on the room as read inside the commit: the
 * refusal, or the room's next roomSeq and one event per member told, each under the member's next
 * seq. Pure logic: the store reads the inputs and writes the plan in one transaction.
 */
final class RoomChangePlanner {

  /**
   * A refusal ({@code refused} set), a change that changes nothing ({@code roomSeq} the room's, no
   * events), or the events to store here (with their seqs, heads moved) and those of members whose
   * inboxes are on other shards ({@code elsewhere}, seq 0: their shard gives it); {@code told} is
   * every member told, in the order members joined.
   */
  record Plan(ErrorCode refused, long roomSeq, List<StoredMessage> events, Map<String, InboxHead> heads,
              List<StoredMessage> elsewhere, List<String> told) {

    boolean writes() {
      return refused == null && !(events.isEmpty() && elsewhere.isEmpty());
    }
  }

  private final RoomRules rules;
  private final Predicate<String> owns;

  RoomChangePlanner(RoomRules rules, Predicate<String> owns) {
    this.rules = rules;
    this.owns = owns;
  }

  /** The user the change is about: the creator, or the member added or removed. */
  static String about(RoomChange change) {
    return RoomRules.about(change);
  }

  /** Who is told: see {@link RoomRules#told}. */
  List<String> told(RoomChange change, RoomRules.View room) {
    return rules.told(change, room);
  }

  /**
   * @param roomsOfTarget how many rooms the user who would join is in now
   * @param heads         current heads of the members told whose inboxes are here (absent: empty)
   */
  Plan plan(RoomChange change, RoomRules.View room, int roomsOfTarget, Map<String, InboxHead> heads) {
    ErrorCode refused = rules.check(change, room, roomsOfTarget);
    if (refused != null) {
      return refused(refused);
    }
    if (RoomRules.changesNothing(change, room)) {
      return new Plan(null, room.roomSeq(), List.of(), Map.of(), List.of(), List.of());
    }
    long roomSeq = room.roomSeq() + 1;
    String about = about(change);
    List<StoredMessage> events = new ArrayList<>();
    List<StoredMessage> elsewhere = new ArrayList<>();
    Map<String, InboxHead> moved = new HashMap<>();
    List<String> told = told(change, room);
    for (String member : told) {
      if (!owns.test(member)) {
        elsewhere.add(new StoredMessage(change.msgId(), 0, change.by(), member, about, change.ts(), change.room(),
            roomSeq, change.op().event()));
        continue;
      }
      // Events are not held to the inbox cap: a member must learn of a change even with a full inbox.
      InboxHead head = heads.getOrDefault(member, InboxHead.EMPTY);
      InboxHead next = new InboxHead(head.lastSeq() + 1, head.stored() + 1);
      moved.put(member, next);
      events.add(new StoredMessage(change.msgId(), next.lastSeq(), change.by(), member, about, change.ts(),
          change.room(), roomSeq, change.op().event()));
    }
    return new Plan(null, roomSeq, events, moved, elsewhere, told);
  }

  static Plan refused(ErrorCode error) {
    return new Plan(error, 0, List.of(), Map.of(), List.of(), List.of());
  }
}
