package dev.switchboard.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * Prints what a database's statements cost PostgreSQL over a run, from pg_stat_statements (the
 * server started by {@link PostgresMain} with {@code --stat-statements}): per statement, calls, the
 * time executing and planning in all and per call, and rows; the most expensive first. Execution
 * time includes waits (locks, the WAL flush of a COMMIT); a statement whose time per call grows with
 * the run is one whose plan reads more than its rows.
 * {@code java -cp switchboard-bench.jar dev.switchboard.bench.PgStatements --port P --database D [--rows 12]}.
 */
public final class PgStatements {

  private PgStatements() {
  }

  public static void main(String[] argv) throws SQLException {
    Args a = new Args(argv, 0);
    int port = a.integer("port", 0);
    String database = a.str("database", "switchboard_1");
    int rows = a.integer("rows", 12);
    if (!a.unused().isEmpty() || port <= 0) {
      throw new IllegalArgumentException("usage: --port P --database D [--rows N]; unknown: " + a.unused());
    }
    String sql = "SELECT calls, total_exec_time, total_plan_time, rows, regexp_replace(query, '\\s+', ' ', 'g')"
        + " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        + " ORDER BY total_exec_time + total_plan_time DESC LIMIT " + rows;
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, "postgres", "");
         Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      System.out.println("postgres statements of " + database + " over the run (pg_stat_statements; exec includes waits):");
      System.out.println(String.format(Locale.ROOT, "  %8s %10s %9s %9s %9s %9s  %s", "calls", "exec ms", "exec/call",
          "plan ms", "plan/call", "rows", "statement"));
      while (r.next()) {
        long calls = r.getLong(1);
        double exec = r.getDouble(2);
        double plan = r.getDouble(3);
        String query = r.getString(5);
        System.out.println(String.format(Locale.ROOT, "  %8d %10.1f %9.3f %9.1f %9.3f %9d  %s", calls, exec,
            calls == 0 ? 0 : exec / calls, plan, calls == 0 ? 0 : plan / calls, r.getLong(4),
            query.length() > 90 ? query.substring(0, 90) + "..." : query));
      }
      printWalAndCheckpoints(s);
    }
  }

  /**
   * The server's WAL and checkpoints since it started: a checkpoint requested by WAL volume
   * ({@code max_wal_size}) during a run, and the full-page images written after it, are where a
   * steady write load meets a latency spike.
   */
  private static void printWalAndCheckpoints(Statement s) throws SQLException {
    try (ResultSet w = s.executeQuery("SELECT wal_records, wal_fpi, wal_bytes, wal_buffers_full FROM pg_stat_wal")) {
      if (w.next()) {
        System.out.println(String.format(Locale.ROOT, "  server WAL since start: %,d records, %,d full-page images, "
            + "%.1f MiB, WAL buffers full %,d times", w.getLong(1), w.getLong(2), w.getDouble(3) / (1 << 20), w.getLong(4)));
      }
    }
    try (ResultSet c = s.executeQuery("SELECT num_timed, num_requested, write_time, sync_time FROM pg_stat_checkpointer")) {
      if (c.next()) {
        System.out.println(String.format(Locale.ROOT, "  server checkpoints since start: %d timed, %d requested "
            + "(WAL volume), %.0f ms writing, %.0f ms syncing", c.getLong(1), c.getLong(2), c.getDouble(3), c.getDouble(4)));
      }
    }
  }
}
