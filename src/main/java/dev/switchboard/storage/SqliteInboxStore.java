package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RoomChange;
import dev.switchboard.bus.RoomChangeResult;
import dev.switchboard.bus.RoomInfo;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.jdbcclient.JDBCPool;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The embedded engine: SQLite in WAL mode through the Vert.x JDBC pool. A commit is in the WAL file
 * before the append is answered, so it survives the process being killed; with
 * {@code inbox.synchronous = FULL} (the default) it is also fsynced and survives power loss.
 *
 * <p>This store is the only writer of its file, so it keeps inbox heads in memory, loading a head
 * on first use; the cache is changed only after a commit, so it never runs ahead of the disk.
 */
public final class SqliteInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(SqliteInboxStore.class);
  private static final int MAX_PARAMS = 500;
  private static final int HEAD_CACHE_SIZE = 200_000;
  private static final int KEY_PAGE = 10_000;
  private static final int READERS = 3;

  /** The version of the schema, kept in the file's {@code PRAGMA user_version}. */
  static final int SCHEMA_VERSION = 2;

  private static final List<String> SCHEMA = InboxRows.tables("INTEGER");

  /**
   * Version 2: rooms. A room message's body is stored once, in {@code room_messages}; each member's
   * inbox row references it by {@code (room, room_seq)} with an empty body of its own, and reads join.
   */
  private static final List<String> ROOM_TABLES = List.of(
      "CREATE TABLE IF NOT EXISTS rooms (room TEXT PRIMARY KEY, owner TEXT NOT NULL, last_seq INTEGER NOT NULL,"
          + " created_at INTEGER NOT NULL)",
      "CREATE TABLE IF NOT EXISTS room_members (room TEXT NOT NULL, member TEXT NOT NULL, joined INTEGER NOT NULL,"
          + " PRIMARY KEY (room, member))",
      "CREATE INDEX IF NOT EXISTS room_members_by_member ON room_members (member, room)",
      "CREATE TABLE IF NOT EXISTS room_messages (room TEXT NOT NULL, room_seq INTEGER NOT NULL, msg_id TEXT NOT NULL,"
          + " sender TEXT NOT NULL, body TEXT NOT NULL, event TEXT, created_at INTEGER NOT NULL, PRIMARY KEY (room, room_seq))",
      "CREATE INDEX IF NOT EXISTS room_messages_by_age ON room_messages (created_at)");
  /** Applied once, to a file of version 1 (or a new one): the inbox rows' reference to a room message. */
  private static final List<String> TO_VERSION_2 = List.of(
      "ALTER TABLE messages ADD COLUMN room TEXT",
      "ALTER TABLE messages ADD COLUMN room_seq INTEGER");

  private static final String INSERT_ROOM_REF =
      "INSERT INTO messages (recipient, seq, msg_id, sender, body, created_at, room, room_seq) VALUES (?, ?, ?, ?, '', ?, ?, ?)";
  private static final String INSERT_ROOM_MESSAGE =
      "INSERT INTO room_messages (room, room_seq, msg_id, sender, body, event, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";

  private static final String INSERT_MESSAGE =
      "INSERT INTO messages (recipient, seq, msg_id, sender, body, created_at) VALUES (?, ?, ?, ?, ?, ?)";
  private static final String UPSERT_HEAD =
      "INSERT INTO inboxes (recipient, last_seq, stored) VALUES (?, ?, ?)"
          + " ON CONFLICT (recipient) DO UPDATE SET last_seq = excluded.last_seq, stored = excluded.stored";
  private static final String UPSERT_KEY =
      "INSERT OR REPLACE INTO send_keys (sender, send_key, created_at, fingerprint, result) VALUES (?, ?, ?, ?, ?)";
  private static final String UPSERT_CURSOR =
      "INSERT INTO cursors (recipient, device, seq, updated_at) VALUES (?, ?, ?, ?)"
          + " ON CONFLICT (recipient, device) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at";
  private static final String READ_PAGE =
      "SELECT m.msg_id, m.seq, m.sender, coalesce(r.body, m.body) AS body, m.created_at, m.room, m.room_seq, r.event"
          + " FROM messages m LEFT JOIN room_messages r ON r.room = m.room AND r.room_seq = m.room_seq"
          + " WHERE m.recipient = ? AND m.seq > ? AND m.created_at >= ? ORDER BY m.seq LIMIT ?";

  private final Vertx vertx;
  private final InboxConfig config;
  private final AppendPlanner planner;
  private final RoomRules roomRules;
  private final Map<String, InboxHead> heads = new LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, InboxHead> eldest) {
      return size() > HEAD_CACHE_SIZE;
    }
  };
  /** The one connection that writes: SQLite has a single writer, and a lone writer never sees a stale snapshot. */
  private Pool writer;
  /** Which keys may be stored, so that fresh keys (nearly all) need no lookup; filled at open. */
  private RecentSendKeys recentKeys;
  /** Connections for reads, which in WAL mode run beside the writer without blocking it. */
  private Pool readers;

  public SqliteInboxStore(Vertx vertx, InboxConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.planner = new AppendPlanner(config.maxMessagesPerUser());
    this.roomRules = new RoomRules(config.maxRoomMembers(), config.maxRoomsPerUser());
  }

  @Override
  public Future<Void> open() {
    Path file = Path.of(config.dataDir()).toAbsolutePath().resolve("inbox.db");
    return vertx.fileSystem().mkdirs(file.getParent().toString()).compose(v -> {
      writer = JDBCPool.pool(vertx, dataSource(file), new PoolOptions().setMaxSize(1).setName("inbox-writer"));
      // Each reader connection on a context of its own: the JDBC client runs a connection's statements
      // as ordered blocking tasks of its context, so connections sharing this verticle's context
      // (the default) would take turns on one worker thread, and reads would queue behind commits.
      readers = JDBCPool.pool(vertx, dataSource(file),
          new PoolOptions().setMaxSize(READERS).setEventLoopSize(READERS).setName("inbox-readers"));
      return writer.query("PRAGMA user_version").execute()
          .map(rows -> rows.iterator().next().getInteger(0))
          .compose(version -> {
            // The file records its schema version, so a later release knows what to migrate and an
            // older one refuses a file it does not understand.
            if (version > SCHEMA_VERSION) {
              return Future.failedFuture(new IllegalStateException(file + " has schema version " + version
                  + ", newer than this build knows (" + SCHEMA_VERSION + ")"));
            }
            List<String> statements = new ArrayList<>(SCHEMA);
            if (version < 2) {
              statements.addAll(TO_VERSION_2);
            }
            statements.addAll(ROOM_TABLES);
            statements.add("PRAGMA user_version = " + SCHEMA_VERSION);
            // One transaction: a migration cut short leaves version 1 as it was, and runs again.
            return writer.withTransaction(conn -> {
              Future<Void> chain = Future.succeededFuture();
              for (String statement : statements) {
                chain = chain.compose(x -> conn.query(statement).execute().mapEmpty());
              }
              return chain;
            });
          })
          .compose(x -> {
            recentKeys = new RecentSendKeys(config.idempotencyWindowMillis());
            return loadRecentKeys(0);
          })
          .onSuccess(x -> LOG.info("inbox store open at {} (synchronous={})", file, config.synchronous()))
          .mapEmpty();
    });
  }

  private SQLiteDataSource dataSource(Path file) {
    SQLiteConfig sqlite = new SQLiteConfig();
    sqlite.setJournalMode(SQLiteConfig.JournalMode.WAL);
    sqlite.setSynchronous(SQLiteConfig.SynchronousMode.valueOf(config.synchronous()));
    sqlite.setBusyTimeout(10_000);
    sqlite.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    SQLiteDataSource dataSource = new SQLiteDataSource(sqlite);
    dataSource.setUrl("jdbc:sqlite:" + file);
    return dataSource;
  }

  @Override
  public Future<List<AppendResult>> append(List<AppendRequest> batch, List<CursorUpdate> cursors, long now) {
    Set<String> recipients = InboxRows.recipients(batch);
    Map<String, RoomRules.View> rooms = new HashMap<>();
    return loadRooms(batch, rooms)
        .compose(x -> {
          rooms.values().forEach(view -> recipients.addAll(view.members()));
          return loadHeads(recipients);
        })
        .compose(loaded -> loadSendKeys(batch, now).map(keys -> planner.plan(batch, loaded, keys,
            room -> rooms.getOrDefault(room, RoomRules.View.NONE))))
        .compose(plan -> writer.withTransaction(conn -> write(conn, plan, cursors, now))
            .map(x -> {
              heads.putAll(plan.heads());
              plan.newKeys().forEach(k -> recentKeys.add(k.key(), now));
              return plan.results();
            }))
        .onFailure(e -> recipients.forEach(heads::remove));
  }

  private Future<Void> write(SqlConnection conn, AppendPlanner.Plan plan, List<CursorUpdate> cursors, long now) {
    List<Tuple> direct = new ArrayList<>();
    List<Tuple> refs = new ArrayList<>();
    Map<List<Object>, Tuple> roomMessages = new LinkedHashMap<>();
    for (StoredMessage m : plan.rows()) {
      if (m.room() == null) {
        direct.add(Tuple.of(m.to(), m.seq(), m.msgId(), m.from(), m.body(), m.ts()));
        continue;
      }
      refs.add(Tuple.of(m.to(), m.seq(), m.msgId(), m.from(), m.ts(), m.room(), m.roomSeq()));
      roomMessages.putIfAbsent(List.of(m.room(), m.roomSeq()),
          Tuple.of(m.room(), m.roomSeq(), m.msgId(), m.from(), m.body(), null, m.ts()));
    }
    List<Tuple> roomHeads = new ArrayList<>();
    plan.roomSeqs().forEach((room, seq) -> roomHeads.add(Tuple.of(seq, room)));
    return batch(conn, INSERT_MESSAGE, direct)
        .compose(x -> batch(conn, INSERT_ROOM_MESSAGE, new ArrayList<>(roomMessages.values())))
        .compose(x -> batch(conn, INSERT_ROOM_REF, refs))
        .compose(x -> batch(conn, "UPDATE rooms SET last_seq = ? WHERE room = ?", roomHeads))
        .compose(x -> batch(conn, UPSERT_HEAD, InboxRows.heads(plan)))
        .compose(x -> batch(conn, UPSERT_KEY, InboxRows.sendKeys(plan, now)))
        .compose(x -> batch(conn, UPSERT_CURSOR, InboxRows.cursors(cursors, now)));
  }

  private static Future<Void> batch(SqlConnection conn, String sql, List<Tuple> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    return conn.preparedQuery(sql).executeBatch(rows).mapEmpty();
  }

  /** Heads of the given inboxes: from the cache, the rest in one query per chunk. */
  private Future<Map<String, InboxHead>> loadHeads(Set<String> recipients) {
    Map<String, InboxHead> found = new HashMap<>();
    List<String> missing = new ArrayList<>();
    for (String user : recipients) {
      InboxHead head = heads.get(user);
      if (head != null) {
        found.put(user, head);
      } else {
        missing.add(user);
      }
    }
    return inChunks(missing, chunk -> writer
        .preparedQuery("SELECT recipient, last_seq, stored FROM inboxes WHERE recipient IN (" + placeholders(chunk.size()) + ")")
        .execute(Tuple.wrap(new ArrayList<>(chunk)))
        .map(rows -> {
          for (Row row : rows) {
            found.put(row.getString(0), new InboxHead(row.getLong(1), row.getLong(2)));
          }
          return null;
        })).map(x -> found);
  }

  /**
   * Fills {@link #recentKeys} with the stored keys, a page at a time, each at the time it was stored.
   * The purge keeps the table to about a window's worth, so this reads at most that many rows.
   */
  private Future<Void> loadRecentKeys(long afterRowid) {
    return writer.preparedQuery("SELECT rowid, sender, send_key, created_at FROM send_keys WHERE rowid > ?"
            + " ORDER BY rowid LIMIT " + KEY_PAGE)
        .execute(Tuple.of(afterRowid))
        .compose(rows -> {
          long last = afterRowid;
          for (Row row : rows) {
            last = row.getLong(0);
            recentKeys.add(new AppendPlanner.SendKey(row.getString(1), row.getString(2)), row.getLong(3));
          }
          return rows.size() < KEY_PAGE ? Future.succeededFuture() : loadRecentKeys(last);
        });
  }

  /** Results stored for the batch's idempotency keys that are still within the window. */
  private Future<Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult>> loadSendKeys(List<AppendRequest> batch, long now) {
    List<AppendPlanner.SendKey> keys = InboxRows.sendKeys(batch);
    // Fresh keys (nearly all) are known not to be stored: look up only the "maybe"s.
    keys.removeIf(k -> !recentKeys.mayContain(k, now));
    Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult> found = new HashMap<>();
    long since = now - config.idempotencyWindowMillis();
    return inChunks(keys, chunk -> {
      List<Object> params = new ArrayList<>();
      params.add(since);
      StringBuilder values = new StringBuilder();
      for (AppendPlanner.SendKey k : chunk) {
        values.append(values.length() == 0 ? "(?, ?)" : ", (?, ?)");
        params.add(k.sender());
        params.add(k.key());
      }
      return writer.preparedQuery("SELECT sender, send_key, fingerprint, result FROM send_keys WHERE created_at >= ?"
              + " AND (sender, send_key) IN (VALUES " + values + ")")
          .execute(Tuple.wrap(params))
          .map(rows -> {
            rows.forEach(row -> InboxRows.putSendKey(row, found));
            return null;
          });
    }).map(x -> found);
  }

  private static <T> Future<Void> inChunks(List<T> items, Function<List<T>, Future<Void>> query) {
    Future<Void> chain = Future.succeededFuture();
    for (int from = 0; from < items.size(); from += MAX_PARAMS / 2) {
      List<T> chunk = items.subList(from, Math.min(items.size(), from + MAX_PARAMS / 2));
      chain = chain.compose(x -> query.apply(chunk));
    }
    return chain;
  }

  private static String placeholders(int n) {
    return "?, ".repeat(n - 1) + "?";
  }

  /** The rooms the batch sends to, as stored (this store is the only writer, and writes one batch at a time). */
  private Future<Void> loadRooms(List<AppendRequest> batch, Map<String, RoomRules.View> into) {
    Future<Void> chain = Future.succeededFuture();
    for (AppendRequest request : batch) {
      if (request.isRoom() && !into.containsKey(request.room())) {
        into.put(request.room(), RoomRules.View.NONE);
        chain = chain.compose(x -> view(writer, request.room()).map(view -> {
          into.put(request.room(), view);
          return null;
        }));
      }
    }
    return chain;
  }

  /** A room's owner, members in the order they joined and last roomSeq; {@link RoomRules.View#NONE} if there is none. */
  private static Future<RoomRules.View> view(Pool pool, String room) {
    return pool.preparedQuery("SELECT owner, last_seq FROM rooms WHERE room = ?").execute(Tuple.of(room))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(RoomRules.View.NONE);
          }
          Row head = rows.iterator().next();
          return pool.preparedQuery("SELECT member FROM room_members WHERE room = ? ORDER BY joined, member")
              .execute(Tuple.of(room))
              .map(members -> {
                Set<String> ordered = new LinkedHashSet<>();
                members.forEach(row -> ordered.add(row.getString(0)));
                return new RoomRules.View(head.getString(0), ordered, head.getLong(1));
              });
        });
  }

  @Override
  public Future<RoomChangeResult> changeRoom(RoomChange change, long now) {
    String about = change.op() == RoomChange.Op.CREATE ? change.by() : change.member();
    return view(writer, change.room()).compose(view -> writer
        .preparedQuery("SELECT count(*) FROM room_members WHERE member = ?").execute(Tuple.of(about))
        .map(InboxRows::firstLong)
        .compose(roomsOfTarget -> {
          ErrorCode refused = roomRules.check(change, view, (int) Math.min(Integer.MAX_VALUE, roomsOfTarget));
          if (refused != null) {
            return Future.succeededFuture(RoomChangeResult.refused(refused));
          }
          if (RoomRules.changesNothing(change, view)) {
            return Future.succeededFuture(new RoomChangeResult(null, view.roomSeq(), List.of()));
          }
          return commitRoomChange(change, view, about);
        }));
  }

  /** The change, its room event once in {@code room_messages}, and a reference in each told member's inbox. */
  private Future<RoomChangeResult> commitRoomChange(RoomChange change, RoomRules.View view, String about) {
    long roomSeq = view.roomSeq() + 1;
    Set<String> told = new LinkedHashSet<>(view.members());
    told.add(about);
    return loadHeads(told).compose(loaded -> {
      List<StoredMessage> events = new ArrayList<>(told.size());
      Map<String, InboxHead> updated = new HashMap<>();
      List<Tuple> refs = new ArrayList<>();
      for (String member : told) {
        InboxHead head = loaded.getOrDefault(member, InboxHead.EMPTY);
        InboxHead next = new InboxHead(head.lastSeq() + 1, head.stored() + 1);
        updated.put(member, next);
        events.add(new StoredMessage(change.msgId(), next.lastSeq(), change.by(), member, about, change.ts(),
            change.room(), roomSeq, change.op().event()));
        refs.add(Tuple.of(member, next.lastSeq(), change.msgId(), change.by(), change.ts(), change.room(), roomSeq));
      }
      List<Tuple> headRows = new ArrayList<>();
      updated.entrySet().stream().sorted(Map.Entry.comparingByKey())
          .forEach(e -> headRows.add(Tuple.of(e.getKey(), e.getValue().lastSeq(), e.getValue().stored())));
      return writer.withTransaction(conn -> membership(conn, change, about, roomSeq)
              .compose(x -> conn.preparedQuery(INSERT_ROOM_MESSAGE).execute(Tuple.of(change.room(), roomSeq, change.msgId(),
                  change.by(), about, change.op().event(), change.ts())))
              .compose(x -> batch(conn, INSERT_ROOM_REF, refs))
              .compose(x -> batch(conn, UPSERT_HEAD, headRows)))
          .map(x -> {
            heads.putAll(updated);
            return new RoomChangeResult(null, roomSeq, events);
          })
          .onFailure(e -> told.forEach(heads::remove));
    });
  }

  private static Future<Void> membership(SqlConnection conn, RoomChange change, String about, long roomSeq) {
    return switch (change.op()) {
      case CREATE -> conn.preparedQuery("INSERT INTO rooms (room, owner, last_seq, created_at) VALUES (?, ?, ?, ?)")
          .execute(Tuple.of(change.room(), change.by(), roomSeq, change.ts()))
          .compose(x -> conn.preparedQuery("INSERT INTO room_members (room, member, joined) VALUES (?, ?, ?)")
              .execute(Tuple.of(change.room(), about, roomSeq)))
          .mapEmpty();
      case ADD -> conn.preparedQuery("INSERT INTO room_members (room, member, joined) VALUES (?, ?, ?)")
          .execute(Tuple.of(change.room(), about, roomSeq))
          .compose(x -> conn.preparedQuery("UPDATE rooms SET last_seq = ? WHERE room = ?").execute(Tuple.of(roomSeq, change.room())))
          .mapEmpty();
      case REMOVE -> conn.preparedQuery("DELETE FROM room_members WHERE room = ? AND member = ?")
          .execute(Tuple.of(change.room(), about))
          .compose(x -> conn.preparedQuery("UPDATE rooms SET last_seq = ? WHERE room = ?").execute(Tuple.of(roomSeq, change.room())))
          .mapEmpty();
    };
  }

  @Override
  public Future<RoomInfo> room(String room) {
    return view(readers, room).map(view -> view.exists()
        ? new RoomInfo(room, view.owner(), view.roomSeq(), List.copyOf(view.members()))
        : null);
  }

  @Override
  public Future<List<String>> rooms(String user) {
    return readers.preparedQuery("SELECT room FROM room_members WHERE member = ? ORDER BY room").execute(Tuple.of(user))
        .map(rows -> {
          List<String> rooms = new ArrayList<>(rows.size());
          rows.forEach(row -> rooms.add(row.getString(0)));
          return rooms;
        });
  }

  @Override
  public Future<Long> cursor(String user, String device) {
    return readers.preparedQuery("SELECT seq FROM cursors WHERE recipient = ? AND device = ?")
        .execute(Tuple.of(user, device))
        .map(InboxRows::firstLong);
  }

  @Override
  public Future<InboxPage> read(String user, long after, int limit, long now) {
    // The head is taken before the rows: every seq up to it was committed before the rows are read,
    // so a seq below the head that the rows lack was removed, and can be reported as a gap.
    InboxHead cached = heads.get(user);
    Future<Long> head = cached != null
        ? Future.succeededFuture(cached.lastSeq())
        : readers.preparedQuery("SELECT last_seq FROM inboxes WHERE recipient = ?").execute(Tuple.of(user))
            .map(InboxRows::firstLong);
    return head.compose(h -> h <= after
        // Nothing was ever committed after the cursor (the common case for a connecting device):
        // no query for rows that cannot exist.
        ? Future.succeededFuture(new InboxPage(after, h, List.of()))
        : readers.preparedQuery(READ_PAGE)
        .execute(Tuple.of(user, after, now - config.retentionMillis(), limit))
        .map(rows -> {
          List<StoredMessage> messages = new ArrayList<>(rows.size());
          rows.forEach(row -> {
            StoredMessage m = InboxRows.message(row, user);
            String room = row.getString("room");
            messages.add(room == null ? m : new StoredMessage(m.msgId(), m.seq(), m.from(), user, m.body(), m.ts(), room,
                row.getLong("room_seq"), row.getString("event")));
          });
          return new InboxPage(after, h, messages);
        }));
  }

  @Override
  public Future<Long> purge(long now) {
    long cutoff = now - config.retentionMillis();
    Map<String, Long> removed = new HashMap<>();
    return writer.withTransaction(conn -> conn
            .preparedQuery("SELECT recipient, count(*) FROM messages WHERE created_at < ? GROUP BY recipient")
            .execute(Tuple.of(cutoff))
            .compose(rows -> {
              for (Row row : rows) {
                removed.put(row.getString(0), row.getLong(1));
              }
              if (removed.isEmpty()) {
                return Future.succeededFuture();
              }
              List<Tuple> updates = new ArrayList<>();
              removed.forEach((user, n) -> updates.add(Tuple.of(n, user)));
              return conn.preparedQuery("DELETE FROM messages WHERE created_at < ?").execute(Tuple.of(cutoff))
                  .compose(x -> conn.preparedQuery("UPDATE inboxes SET stored = max(stored - ?, 0) WHERE recipient = ?")
                      .executeBatch(updates));
            })
            // A room message's body goes once no member's inbox references it any more.
            .compose(x -> conn.preparedQuery("DELETE FROM room_messages WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM"
                + " messages m WHERE m.room = room_messages.room AND m.room_seq = room_messages.room_seq)").execute(Tuple.of(cutoff)))
            .compose(x -> conn.preparedQuery("DELETE FROM send_keys WHERE created_at < ?")
                .execute(Tuple.of(now - config.idempotencyWindowMillis()))))
        .map(x -> {
          long total = 0;
          for (Map.Entry<String, Long> e : removed.entrySet()) {
            total += e.getValue();
            InboxHead head = heads.get(e.getKey());
            if (head != null) {
              heads.put(e.getKey(), new InboxHead(head.lastSeq(), Math.max(0, head.stored() - e.getValue())));
            }
          }
          return total;
        });
  }

  @Override
  public Future<Void> close() {
    if (writer == null) {
      return Future.succeededFuture();
    }
    return Future.all(writer.close(), readers.close()).mapEmpty();
  }
}
