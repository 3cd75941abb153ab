package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.StoredMessage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The rows of the PostgreSQL store's tables: the parameters of its writes and the mapping of what it
 * reads; and the batch's idempotency keys, which the log engine looks up too.
 *
 * <p>Rows come out in a fixed order (recipients, keys and cursors sorted), so that writers sharing
 * one database take their row locks in the same order and cannot deadlock each other.
 */
final class InboxRows {

  private InboxRows() {
  }

  /** The first column of every row, sorted as Java sorts Strings (not by the database's collation). */
  static List<String> sortedStrings(RowSet<Row> rows) {
    List<String> values = new ArrayList<>(rows.size());
    rows.forEach(row -> values.add(row.getString(0)));
    values.sort(null);
    return values;
  }

  /** The first column of the first row, or 0 when there is no row (no head, no cursor yet). */
  static long firstLong(RowSet<Row> rows) {
    return rows.size() == 0 ? 0L : rows.iterator().next().getLong(0);
  }

  /** Each of {@code keys} with its cursor from the (recipient, device, seq) rows of {@code queries}, 0 where none. */
  static Map<DeviceKey, Long> cursorsFound(List<DeviceKey> keys, List<Future<RowSet<Row>>> queries) {
    Map<DeviceKey, Long> found = new HashMap<>(keys.size() * 2);
    keys.forEach(k -> found.put(k, 0L));
    for (Future<RowSet<Row>> query : queries) {
      for (Row row : query.result()) {
        found.put(new DeviceKey(row.getString(0), row.getString(1)), row.getLong(2));
      }
    }
    return found;
  }

  /** Every recipient of the batch's direct sends, once, sorted (a room's members are read with the room). */
  static SortedSet<String> recipients(List<AppendRequest> batch) {
    SortedSet<String> recipients = new TreeSet<>();
    batch.stream().filter(r -> !r.isRoom()).forEach(r -> r.recipients().forEach(x -> recipients.add(x.to())));
    return recipients;
  }

  /** Every room the batch sends to, once, sorted (the order their rows are locked in). */
  static SortedSet<String> rooms(List<AppendRequest> batch) {
    SortedSet<String> rooms = new TreeSet<>();
    batch.stream().filter(AppendRequest::isRoom).forEach(r -> rooms.add(r.room()));
    return rooms;
  }

  /**
   * Rooms from rows of {@code room, owner, last_room_seq, member} (member null for a room without
   * members), the members of each in the order of the rows.
   */
  static Map<String, RoomRules.View> roomViews(RowSet<Row> rows) {
    Map<String, String> owners = new LinkedHashMap<>();
    Map<String, Long> seqs = new LinkedHashMap<>();
    Map<String, java.util.Set<String>> members = new LinkedHashMap<>();
    for (Row row : rows) {
      String room = row.getString("room");
      owners.put(room, row.getString("owner"));
      seqs.put(room, row.getLong("last_room_seq"));
      java.util.Set<String> of = members.computeIfAbsent(room, r -> new java.util.LinkedHashSet<>());
      if (row.getString("member") != null) {
        of.add(row.getString("member"));
      }
    }
    Map<String, RoomRules.View> views = new LinkedHashMap<>();
    owners.forEach((room, owner) -> views.put(room, new RoomRules.View(owner, members.get(room), seqs.get(room))));
    return views;
  }

  /** The batch's idempotency keys, in request order. */
  static List<AppendPlanner.SendKey> sendKeys(List<AppendRequest> batch) {
    List<AppendPlanner.SendKey> keys = new ArrayList<>();
    for (AppendRequest r : batch) {
      if (r.idempotencyKey() != null) {
        keys.add(new AppendPlanner.SendKey(r.from(), r.idempotencyKey()));
      }
    }
    return keys;
  }

  /** {@code (recipient, seq, msg_id, sender, body, created_at, room, room_seq, event)} for each new message. */
  static List<Tuple> messages(AppendPlanner.Plan plan) {
    return messages(plan.rows());
  }

  /**
   * {@code (recipient, seq, msg_id, sender, body, created_at, room, room_seq, event)} for each message:
   * a room message's row has an empty body, since its body is stored once in {@code room_messages}.
   */
  static List<Tuple> messages(List<StoredMessage> stored) {
    List<Tuple> rows = new ArrayList<>(stored.size());
    for (StoredMessage m : stored) {
      boolean reference = m.room() != null && m.event() == null;
      rows.add(Tuple.of(m.to(), m.seq(), m.msgId(), m.from(), reference ? "" : m.body(), m.ts(), m.room(),
          m.room() == null ? null : m.roomSeq(), m.event()));
    }
    return rows;
  }

  /**
   * {@code (room, room_seq, msg_id, sender, body, created_at)} once per room message among {@code stored}
   * (its copies share it), in the order first met.
   */
  static List<Tuple> roomBodies(List<StoredMessage> stored) {
    Map<List<Object>, Tuple> bodies = new LinkedHashMap<>();
    for (StoredMessage m : stored) {
      if (m.room() != null && m.event() == null) {
        bodies.computeIfAbsent(List.of(m.room(), m.roomSeq()),
            k -> Tuple.of(m.room(), m.roomSeq(), m.msgId(), m.from(), m.body(), m.ts()));
      }
    }
    return new ArrayList<>(bodies.values());
  }

  /** {@code (recipient, last_seq, stored)} for each inbox the plan changes, by recipient. */
  static List<Tuple> heads(AppendPlanner.Plan plan) {
    List<Tuple> rows = new ArrayList<>(plan.heads().size());
    plan.heads().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> rows.add(Tuple.of(e.getKey(), e.getValue().lastSeq(), e.getValue().stored())));
    return rows;
  }

  /** {@code (sender, send_key, created_at, fingerprint, result)} for each of {@code keys}, by key. */
  static List<Tuple> sendKeys(Collection<AppendPlanner.NewSendKey> keys, long now) {
    List<Tuple> rows = new ArrayList<>(keys.size());
    keys.stream()
        .sorted(Comparator.comparing((AppendPlanner.NewSendKey k) -> k.key().sender()).thenComparing(k -> k.key().key()))
        .forEach(k -> rows.add(Tuple.of(k.key().sender(), k.key().key(), now, k.keyed().fingerprint(),
            k.keyed().result().encode())));
    return rows;
  }

  /** The highest move of each device, once: the moves of a batch may name a device more than once. */
  static List<CursorUpdate> highestPerDevice(List<CursorUpdate> cursors) {
    Map<List<String>, CursorUpdate> highest = new LinkedHashMap<>();
    for (CursorUpdate c : cursors) {
      highest.merge(List.of(c.user(), c.device()), c, (a, b) -> a.seq() >= b.seq() ? a : b);
    }
    return new ArrayList<>(highest.values());
  }

  /** {@code (recipient, device, seq, updated_at)} for each cursor move, by recipient and device. */
  static List<Tuple> cursors(List<CursorUpdate> cursors, long now) {
    List<Tuple> rows = new ArrayList<>(cursors.size());
    cursors.stream()
        .sorted(Comparator.comparing(CursorUpdate::user).thenComparing(CursorUpdate::device))
        .forEach(c -> rows.add(Tuple.of(c.user(), c.device(), c.seq(), now)));
    return rows;
  }

  /**
   * The rows turned into one array per column, for a statement that reads them with {@code unnest}:
   * column i is an array of {@code types[i]}, in row order. Every row has {@code types.length} values.
   */
  static Tuple columns(List<Tuple> rows, Class<?>... types) {
    Object[] arrays = new Object[types.length];
    for (int c = 0; c < types.length; c++) {
      Object column = Array.newInstance(types[c], rows.size());
      for (int r = 0; r < rows.size(); r++) {
        Array.set(column, r, types[c].cast(rows.get(r).getValue(c)));
      }
      arrays[c] = column;
    }
    return Tuple.wrap(arrays);
  }

  /**
   * The body of an inbox row {@code m} as a read selects it: a room message's from its row of
   * {@code room_messages}, anything else's from the row itself. A subquery rather than a join, so
   * that only a room message's row costs a lookup (by the key of {@code room_messages}).
   */
  static final String BODY = "CASE WHEN m.room IS NOT NULL AND m.event IS NULL THEN (SELECT rm.body FROM room_messages rm"
      + " WHERE rm.room = m.room AND rm.room_seq = m.room_seq AND rm.created_at = m.created_at) ELSE m.body END AS body";

  /** A row with the columns {@code msg_id, seq, sender, body, created_at, room, room_seq, event} of {@code user}'s inbox. */
  static StoredMessage message(Row row, String user) {
    Long roomSeq = row.getLong("room_seq");
    return new StoredMessage(row.getString("msg_id"), row.getLong("seq"), row.getString("sender"), user,
        row.getString("body"), row.getLong("created_at"), row.getString("room"), roomSeq == null ? 0 : roomSeq,
        row.getString("event"));
  }

  /** A row with the columns {@code sender, send_key, fingerprint, result} of {@code send_keys}, into {@code found}. */
  static void putSendKey(Row row, Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult> found) {
    found.put(new AppendPlanner.SendKey(row.getString("sender"), row.getString("send_key")),
        new AppendPlanner.KeyedResult(row.getString("fingerprint"),
            AppendResult.fromJson(new JsonObject(row.getString("result")))));
  }
}
