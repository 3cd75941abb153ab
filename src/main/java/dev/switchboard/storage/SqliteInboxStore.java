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
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.jdbcclient.JDBCPool;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * Rooms are read inside the transaction of the send or change that needs them, and a room
 * message's body is stored once, in {@code room_messages}.
 */
public final class SqliteInboxStore implements InboxStore {

  private static final Logger LOG = LoggerFactory.getLogger(SqliteInboxStore.class);
  private static final int MAX_PARAMS = 500;
  private static final int HEAD_CACHE_SIZE = 200_000;
  private static final int KEY_PAGE = 10_000;
  private static final int READERS = 3;

  /** The version of {@link #SCHEMA}, kept in the file's {@code PRAGMA user_version}. */
  static final int SCHEMA_VERSION = 2;

  private static final List<String> SCHEMA = InboxRows.tables("INTEGER");
  /** Version 2: rooms, and room messages' bodies stored once. */
  static final List<String> ROOMS_SCHEMA = rooms();

  private static List<String> rooms() {
    List<String> statements = new ArrayList<>(InboxRows.roomTables("INTEGER"));
    statements.add("CREATE TABLE room_messages (room TEXT NOT NULL, room_seq INTEGER NOT NULL, msg_id TEXT NOT NULL,"
        + " sender TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (room, room_seq))");
    statements.add("CREATE INDEX room_messages_by_age ON room_messages (created_at)");
    return List.copyOf(statements);
  }

  private static final String INSERT_MESSAGE =
      "INSERT INTO messages (recipient, seq, msg_id, sender, body, created_at, room, room_seq, event)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  private static final String INSERT_ROOM_BODY =
      "INSERT INTO room_messages (room, room_seq, msg_id, sender, body, created_at) VALUES (?, ?, ?, ?, ?, ?)";
  private static final String UPDATE_ROOM_SEQ = "UPDATE rooms SET last_room_seq = ? WHERE room = ?";
  /** A room and its members in the order they joined, in one statement so in one snapshot. */
  private static final String READ_ROOM =
      "SELECT r.room, r.owner, r.last_room_seq, m.member FROM rooms r LEFT JOIN room_members m ON m.room = r.room"
          + " WHERE r.room = ? ORDER BY m.joined_seq";
  private static final String UPSERT_HEAD =
      "INSERT INTO inboxes (recipient, last_seq, stored) VALUES (?, ?, ?)"
          + " ON CONFLICT (recipient) DO UPDATE SET last_seq = excluded.last_seq, stored = excluded.stored";
  private static final String UPSERT_KEY =
      "INSERT OR REPLACE INTO send_keys (sender, send_key, created_at, fingerprint, result) VALUES (?, ?, ?, ?, ?)";
  private static final String UPSERT_CURSOR =
      "INSERT INTO cursors (recipient, device, seq, updated_at) VALUES (?, ?, ?, ?)"
          + " ON CONFLICT (recipient, device) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at";
  private static final String READ_PAGE =
      "SELECT m.msg_id, m.seq, m.sender, " + InboxRows.BODY + ", m.created_at, m.room, m.room_seq, m.event"
          + " FROM messages m WHERE m.recipient = ? AND m.seq > ? AND m.created_at >= ? ORDER BY m.seq LIMIT ?";

  private final Vertx vertx;
  private final InboxConfig config;
  private final AppendPlanner planner;
  private final RoomChangePlanner roomPlanner;
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
    this.planner = new AppendPlanner(config.maxMessagesPerUser(), config.roomReceiptMembers());
    this.roomPlanner = new RoomChangePlanner(new RoomRules(config.maxRoomMembers(), config.maxRoomsPerUser(), config.roomEventMembers()),
        user -> true);
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
            if (version == SCHEMA_VERSION) {
              return Future.succeededFuture();
            }
            // One transaction: a migration cut short leaves the file at its old version, whole.
            return writer.withTransaction(conn -> {
              List<String> statements = new ArrayList<>(SCHEMA);
              if (version < 2) {
                statements.addAll(ROOMS_SCHEMA);
              }
              Future<Void> chain = Future.succeededFuture();
              for (String statement : statements) {
                chain = chain.compose(x -> conn.query(statement).execute().mapEmpty());
              }
              return chain.compose(x -> conn.query("PRAGMA user_version = " + SCHEMA_VERSION).execute().mapEmpty());
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

  /**
   * The rooms of the batch are read in its transaction, so a room message goes to the members as the
   * commits before it left them.
   */
  @Override
  public Future<List<AppendResult>> append(List<AppendRequest> batch, List<CursorUpdate> cursors, long now) {
    Set<String> touched = InboxRows.recipients(batch);
    return writer.withTransaction(conn -> loadRooms(conn, InboxRows.rooms(batch))
            .compose(rooms -> {
              rooms.values().forEach(room -> touched.addAll(room.members()));
              return loadHeads(conn, touched)
                  .compose(loaded -> loadSendKeys(conn, batch, now)
                      .map(keys -> planner.plan(batch, loaded, keys, room -> rooms.getOrDefault(room, RoomRules.View.NONE))));
            })
            .compose(plan -> write(conn, plan, cursors, now).map(plan)))
        .map(plan -> {
          heads.putAll(plan.heads());
          plan.newKeys().forEach(k -> recentKeys.add(k.key(), now));
          return plan.results();
        })
        .onFailure(e -> touched.forEach(heads::remove));
  }

  /** The rooms named, as they stand; a room that does not exist is absent. */
  private static Future<Map<String, RoomRules.View>> loadRooms(SqlClient conn, Set<String> rooms) {
    Map<String, RoomRules.View> found = new HashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (String room : rooms) {
      chain = chain.compose(x -> conn.preparedQuery(READ_ROOM).execute(Tuple.of(room))
          .map(rows -> {
            found.putAll(InboxRows.roomViews(rows));
            return null;
          }));
    }
    return chain.map(x -> found);
  }

  private Future<Void> write(SqlConnection conn, AppendPlanner.Plan plan, List<CursorUpdate> cursors, long now) {
    List<Tuple> roomSeqs = new ArrayList<>();
    plan.roomSeqs().forEach((room, seq) -> roomSeqs.add(Tuple.of(seq, room)));
    return batch(conn, INSERT_MESSAGE, InboxRows.messages(plan))
        .compose(x -> batch(conn, INSERT_ROOM_BODY, InboxRows.roomBodies(plan.rows())))
        .compose(x -> batch(conn, UPDATE_ROOM_SEQ, roomSeqs))
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
  private Future<Map<String, InboxHead>> loadHeads(SqlClient conn, java.util.Collection<String> recipients) {
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
    return inChunks(missing, chunk -> conn
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
  private Future<Map<AppendPlanner.SendKey, AppendPlanner.KeyedResult>> loadSendKeys(SqlClient conn,
                                                                                    List<AppendRequest> batch, long now) {
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
      return conn.preparedQuery("SELECT sender, send_key, fingerprint, result FROM send_keys WHERE created_at >= ?"
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

  /** Checked against the room and the member's room count as read in the change's own transaction. */
  @Override
  public Future<RoomChangeResult> changeRoom(RoomChange change, long now) {
    String about = RoomChangePlanner.about(change);
    List<String> told = new ArrayList<>();
    return writer.withTransaction(conn -> loadRooms(conn, Set.of(change.room()))
            .compose(rooms -> {
              RoomRules.View room = rooms.getOrDefault(change.room(), RoomRules.View.NONE);
              told.addAll(roomPlanner.told(change, room));
              Future<Long> count = conn.preparedQuery("SELECT count(*) FROM room_members WHERE member = ?")
                  .execute(Tuple.of(about)).map(InboxRows::firstLong);
              return count.compose(n -> loadHeads(conn, told).map(loaded -> roomPlanner.plan(change, room, n.intValue(), loaded)));
            })
            .compose(plan -> plan.writes() ? writeChange(conn, change, plan).map(plan) : Future.succeededFuture(plan)))
        .map(plan -> {
          heads.putAll(plan.heads());
          return plan.refused() != null ? RoomChangeResult.refused(plan.refused())
              : new RoomChangeResult(null, plan.roomSeq(), plan.events());
        })
        .onFailure(e -> told.forEach(heads::remove));
  }

  private static Future<Void> writeChange(SqlConnection conn, RoomChange change, RoomChangePlanner.Plan plan) {
    List<Tuple> moved = new ArrayList<>();
    plan.heads().entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> moved.add(Tuple.of(e.getKey(), e.getValue().lastSeq(), e.getValue().stored())));
    Future<?> membership = switch (change.op()) {
      case CREATE -> conn.preparedQuery("INSERT INTO rooms (room, owner, last_room_seq, created_at) VALUES (?, ?, ?, ?)")
          .execute(Tuple.of(change.room(), change.by(), plan.roomSeq(), change.ts()))
          .compose(x -> conn.preparedQuery("INSERT INTO room_members (room, member, joined_seq, added_at) VALUES (?, ?, ?, ?)")
              .execute(Tuple.of(change.room(), change.by(), plan.roomSeq(), change.ts())));
      case ADD -> conn.preparedQuery("INSERT INTO room_members (room, member, joined_seq, added_at) VALUES (?, ?, ?, ?)")
          .execute(Tuple.of(change.room(), change.member(), plan.roomSeq(), change.ts()));
      case REMOVE -> conn.preparedQuery("DELETE FROM room_members WHERE room = ? AND member = ?")
          .execute(Tuple.of(change.room(), change.member()));
    };
    return membership
        .compose(x -> conn.preparedQuery(UPDATE_ROOM_SEQ).execute(Tuple.of(plan.roomSeq(), change.room())))
        .compose(x -> batch(conn, INSERT_MESSAGE, InboxRows.messages(plan.events())))
        .compose(x -> batch(conn, UPSERT_HEAD, moved));
  }

  @Override
  public Future<RoomInfo> room(String room) {
    return readers.preparedQuery(READ_ROOM).execute(Tuple.of(room)).map(rows -> {
      RoomRules.View view = InboxRows.roomViews(rows).get(room);
      return view == null ? null : new RoomInfo(room, view.owner(), view.roomSeq(), List.copyOf(view.members()));
    });
  }

  @Override
  public Future<List<String>> rooms(String user) {
    return readers.preparedQuery("SELECT room FROM room_members WHERE member = ?").execute(Tuple.of(user))
        .map(InboxRows::sortedStrings);
  }

  @Override
  public Future<Long> cursor(String user, String device) {
    return readers.preparedQuery("SELECT seq FROM cursors WHERE recipient = ? AND device = ?")
        .execute(Tuple.of(user, device))
        .map(InboxRows::firstLong);
  }

  /** One query per {@code MAX_PARAMS / 2} devices, all at once on the reader pool. */
  @Override
  public Future<Map<DeviceKey, Long>> cursors(Collection<DeviceKey> devices) {
    List<DeviceKey> keys = List.copyOf(devices);
    List<Future<RowSet<Row>>> queries = new ArrayList<>();
    for (int from = 0; from < keys.size(); from += MAX_PARAMS / 2) {
      List<DeviceKey> chunk = keys.subList(from, Math.min(keys.size(), from + MAX_PARAMS / 2));
      List<Object> params = new ArrayList<>(chunk.size() * 2);
      chunk.forEach(k -> {
        params.add(k.user());
        params.add(k.device());
      });
      queries.add(readers.preparedQuery("SELECT recipient, device, seq FROM cursors WHERE (recipient, device) IN (VALUES "
          + "(?, ?), ".repeat(chunk.size() - 1) + "(?, ?))").execute(Tuple.from(params)));
    }
    return Future.all(queries).map(x -> InboxRows.cursorsFound(keys, queries));
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
          rows.forEach(row -> messages.add(InboxRows.message(row, user)));
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
            // A room message's body has its copies' time, so it expires with them.
            .compose(x -> conn.preparedQuery("DELETE FROM room_messages WHERE created_at < ?").execute(Tuple.of(cutoff)))
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
