package dev.switchboard.storage;

import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every room of an engine that keeps them in memory (the log engine): owner, members in the order
 * they joined, the last roomSeq, and each user's rooms. Changed only after the commit that holds the
 * change reached the disk, and rebuilt at open from the records (and the checkpoint of each segment).
 */
final class Rooms {

  /** One room; {@code members} keeps the order they joined. */
  static final class Room {
    final String owner;
    final Set<String> members = new LinkedHashSet<>();
    long roomSeq;

    Room(String owner) {
      this.owner = owner;
    }

    RoomRules.View view() {
      return new RoomRules.View(owner, members, roomSeq);
    }
  }

  private final Map<String, Room> rooms = new HashMap<>();
  private final Map<String, Set<String>> roomsOf = new HashMap<>();

  Room get(String room) {
    return rooms.get(room);
  }

  RoomRules.View view(String room) {
    Room r = rooms.get(room);
    return r == null ? RoomRules.View.NONE : r.view();
  }

  int roomCount(String user) {
    Set<String> of = roomsOf.get(user);
    return of == null ? 0 : of.size();
  }

  /** The rooms {@code user} is a member of, sorted. */
  List<String> roomsOf(String user) {
    Set<String> of = roomsOf.get(user);
    List<String> list = of == null ? new ArrayList<>() : new ArrayList<>(of);
    list.sort(null);
    return list;
  }

  RoomInfo info(String room) {
    Room r = rooms.get(room);
    return r == null ? null : new RoomInfo(room, r.owner, r.roomSeq, List.copyOf(r.members));
  }

  boolean isEmpty() {
    return rooms.isEmpty();
  }

  void forEach(java.util.function.BiConsumer<String, Room> action) {
    rooms.forEach(action);
  }

  /** Applies a committed change at {@code roomSeq} (by {@code by}, about {@code member}). */
  void apply(String room, RoomChange.Op op, String by, String member, long roomSeq) {
    switch (op) {
      case CREATE -> {
        Room r = rooms.computeIfAbsent(room, id -> new Room(by));
        join(room, r, by);
        r.roomSeq = Math.max(r.roomSeq, roomSeq);
      }
      case ADD -> {
        Room r = rooms.get(room);
        if (r != null) {
          join(room, r, member);
          r.roomSeq = Math.max(r.roomSeq, roomSeq);
        }
      }
      case REMOVE -> {
        Room r = rooms.get(room);
        if (r != null) {
          r.members.remove(member);
          Set<String> of = roomsOf.get(member);
          if (of != null && of.remove(room) && of.isEmpty()) {
            roomsOf.remove(member);
          }
          r.roomSeq = Math.max(r.roomSeq, roomSeq);
        }
      }
      default -> throw new IllegalArgumentException(op.name());
    }
  }

  /** A message committed at {@code roomSeq}. */
  void advance(String room, long roomSeq) {
    Room r = rooms.get(room);
    if (r != null) {
      r.roomSeq = Math.max(r.roomSeq, roomSeq);
    }
  }

  /** The whole state of a room, as a checkpoint records it: replaces what was known. */
  void restore(String room, String owner, long roomSeq, List<String> members) {
    Room old = rooms.get(room);
    if (old != null) {
      for (String m : List.copyOf(old.members)) {
        apply(room, RoomChange.Op.REMOVE, owner, m, 0);
      }
    }
    Room r = new Room(owner);
    r.roomSeq = old == null ? roomSeq : Math.max(old.roomSeq, roomSeq);
    rooms.put(room, r);
    members.forEach(m -> join(room, r, m));
  }

  private void join(String room, Room r, String member) {
    if (r.members.add(member)) {
      roomsOf.computeIfAbsent(member, u -> new LinkedHashSet<>()).add(room);
    }
  }
}
