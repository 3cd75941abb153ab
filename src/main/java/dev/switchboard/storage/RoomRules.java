package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.DeliveryReceipts;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.Senders;
import dev.switchboard.protocol.ErrorCode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Who may do what to a room, and the limits, decided on the state read inside the commit (so that
 * a member removed before it is never written to): pure logic, shared by the engines. The owner adds
 * and removes members, a member may remove itself, a sender must be a member; a back end
 * ({@code asService}) may do all of it, though never past the limits.
 */
public final class RoomRules {

  private final int maxMembers;
  private final int maxRoomsPerUser;
  private final int eventMembers;

  /** {@code eventMembers}: up to how many members every member stores each membership change's event. */
  public RoomRules(int maxMembers, int maxRoomsPerUser, int eventMembers) {
    this.maxMembers = maxMembers;
    this.maxRoomsPerUser = maxRoomsPerUser;
    this.eventMembers = eventMembers;
  }

  /** The user a change is about: the creator, or the member added or removed. */
  public static String about(RoomChange change) {
    return change.op() == RoomChange.Op.CREATE ? change.by() : change.member();
  }

  /**
   * Whose inboxes store a change's event, in the order members joined. While the room has at most
   * {@code eventMembers} members (after an add, before a removal) every member, the one removed
   * included; above that only the member the change is about and the user who made it, so that
   * filling a big room does not cost an event per member per add (the others ask for members).
   * A back end's change has no user inbox to tell.
   */
  public List<String> told(RoomChange change, View room) {
    String about = about(change);
    int size = room.members().size() + (room.members().contains(about) ? 0 : 1);
    if (size <= eventMembers) {
      LinkedHashSet<String> told = new LinkedHashSet<>(room.members());
      told.add(about);
      return new ArrayList<>(told);
    }
    List<String> told = new ArrayList<>(2);
    if (!change.asService() && !change.by().equals(about) && room.members().contains(change.by())) {
      told.add(change.by());
    }
    told.add(about);
    return told;
  }

  /** A room's state as the rules need it: null {@code owner} when there is no such room. */
  public record View(String owner, Set<String> members, long roomSeq) {
    public static final View NONE = new View(null, Set.of(), 0);

    public boolean exists() {
      return owner != null;
    }
  }

  /**
   * Null if {@code change} may be committed, else why not. {@code roomsOfTarget} is how many rooms the
   * user who would join (the creator, or the member added) is in now.
   */
  public ErrorCode check(RoomChange change, View room, int roomsOfTarget) {
    switch (change.op()) {
      case CREATE -> {
        if (room.exists()) {
          return ErrorCode.ROOM_EXISTS;
        }
        return roomsOfTarget >= maxRoomsPerUser ? ErrorCode.TOO_MANY_ROOMS : null;
      }
      case ADD -> {
        if (!room.exists()) {
          return ErrorCode.ROOM_NOT_FOUND;
        }
        if (!change.asService() && !change.by().equals(room.owner())) {
          return room.members().contains(change.by()) ? ErrorCode.NOT_OWNER : ErrorCode.NOT_A_MEMBER;
        }
        if (room.members().contains(change.member())) {
          return null;
        }
        if (room.members().size() >= maxMembers) {
          return ErrorCode.ROOM_FULL;
        }
        return roomsOfTarget >= maxRoomsPerUser ? ErrorCode.TOO_MANY_ROOMS : null;
      }
      case REMOVE -> {
        if (!room.exists()) {
          return ErrorCode.ROOM_NOT_FOUND;
        }
        boolean self = change.by().equals(change.member());
        if (!change.asService() && !self && !change.by().equals(room.owner())) {
          return room.members().contains(change.by()) ? ErrorCode.NOT_OWNER : ErrorCode.NOT_A_MEMBER;
        }
        return room.members().contains(change.member()) ? null : ErrorCode.NOT_A_MEMBER;
      }
      default -> throw new IllegalArgumentException(change.op().name());
    }
  }

  /** True if the change is committed without storing anything: adding a member who is one already. */
  public static boolean changesNothing(RoomChange change, View room) {
    return change.op() == RoomChange.Op.ADD && room.members().contains(change.member());
  }

  /**
   * Null if {@code request} may be sent to the room, else why not. A message that asks for delivered
   * receipts, and a read receipt (sent as {@link Senders#receipt(String, String)}, whose reader must
   * be a member), go only to rooms of at most {@code receiptMembers} members, so that one send never
   * costs more receipts than that. A delivered receipt goes only to a sender who is still a member;
   * the member who acked may have left since it got the message.
   */
  public static ErrorCode checkSend(AppendRequest request, View room, int receiptMembers) {
    if (!room.exists()) {
      return ErrorCode.ROOM_NOT_FOUND;
    }
    if (Senders.isDelivered(request.from())) {
      return room.members().contains(request.recipients().get(0).to()) ? null : ErrorCode.NOT_A_MEMBER;
    }
    boolean read = Senders.isReceipt(request.from());
    String member = read ? Senders.shown(request.from()) : request.from();
    if (!request.asService() && !room.members().contains(member)) {
      return ErrorCode.NOT_A_MEMBER;
    }
    if ((read || DeliveryReceipts.requested(request.roomMsgId())) && room.members().size() > receiptMembers) {
      return ErrorCode.ROOM_TOO_BIG;
    }
    return null;
  }
}
