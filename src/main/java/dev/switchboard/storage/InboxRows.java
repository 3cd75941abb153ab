package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.StoredMessage;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What the SQL engines share: both have the same tables and columns, so the parameters of their
 * writes and the mapping of their rows are the same; only the SQL text around them differs.
 *
 * <p>Rows come out in a fixed order (recipients, keys and cursors sorted), so that writers sharing
 * one database take their row locks in the same order and cannot deadlock each other.
 */
final class InboxRows {

  private InboxRows() {
  }

  /**
   * The tables of the first schema version, with {@code integer} as the type of every number
   * column: the engines differ only in its name.
   */
  static List<String> tables(String integer) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS messages (recipient TEXT NOT NULL, seq " + integer + " NOT NULL, msg_id TEXT NOT NULL,"
            + " sender TEXT NOT NULL, body TEXT NOT NULL, created_at " + integer + " NOT NULL, PRIMARY KEY (recipient, seq))",
        "CREATE INDEX IF NOT EXISTS messages_by_age ON messages (created_at)",
        "CREATE TABLE IF NOT EXISTS inboxes (recipient TEXT PRIMARY KEY, last_seq " + integer + " NOT NULL, stored "
            + integer + " NOT NULL)",
        "CREATE TABLE IF NOT EXISTS cursors (recipient TEXT NOT NULL, device TEXT NOT NULL, seq " + integer + " NOT NULL,"
            + " updated_at " + integer + " NOT NULL, PRIMARY KEY (recipient, device))",
        "CREATE TABLE IF NOT EXISTS send_keys (sender TEXT NOT NULL, send_key TEXT NOT NULL, created_at " + integer
            + " NOT NULL, fingerprint TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (sender, send_key))",
        "CREATE INDEX IF NOT EXISTS send_keys_by_age ON send_keys (created_at)");
  }

  /** The first column of the first row, or 0 when there is no row (no head, no cursor yet). */
  static long firstLong(RowSet<Row> rows) {
    return rows.size() == 0 ? 0L : rows.iterator().next().getLong(0);
  }

  /** Every recipient of the batch, once, sorted. */
  static SortedSet<String> recipients(List<AppendRequest> batch) {
    SortedSet<String> recipients = new TreeSet<>();
    batch.forEach(r -> r.recipients().forEach(x -> recipients.add(x.to())));
    return recipients;
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

  /** {@code (recipient, seq, msg_id, sender, body, created_at)} for each new message. */
  static List<Tuple> messages(AppendPlanner.Plan plan) {
    List<Tuple> rows = new ArrayList<>(plan.rows().size());
    for (StoredMessage m : plan.rows()) {
      rows.add(Tuple.of(m.to(), m.seq(), m.msgId(), m.from(), m.body(), m.ts()));
    }
    return rows;
  }

  /** {@code (recipient, last_seq, stored)} for each inbox the plan changes, by recipient. */
  static List<Tuple> heads(AppendPlanner.Plan plan) {
    List<Tuple> rows = new ArrayList<>(plan.heads().size());
    plan.heads().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> rows.add(Tuple.of(e.getKey(), e.getValue().lastSeq(), e.getValue().stored())));
    return rows;
  }

  /** {@code (sender, send_key, created_at, fingerprint, result)} for each new idempotency key, by key. */
  static List<Tuple> sendKeys(AppendPlanner.Plan plan, long now) {
    List<Tuple> rows = new ArrayList<>(plan.newKeys().size());
    plan.newKeys().stream()
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

  /** A row with the columns {@code msg_id, seq, sender, body, created_at} of {@code user}'s inbox. */
  static StoredMessage message(Row row, String user) {
    return new StoredMessage(row.getString("msg_id"), row.getLong("seq"), row.getString("sender"), user,
        row.getString("body"), row.getLong("created_at"));
  }

  /** A row with the columns {@code sender, send_key, fingerprint, result} of {@code send_keys}, into {@code found}. */
  static void putSendKey(Row row, Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult> found) {
    found.put(new AppendPlanner.SendKey(row.getString("sender"), row.getString("send_key")),
        new AppendPlanner.KeyedResult(row.getString("fingerprint"),
            AppendResult.fromJson(new JsonObject(row.getString("result")))));
  }
}
