package dev.switchboard.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server for the tests (binaries from Maven Central, run from a temp dir),
 * started once per test JVM. Each {@link #start()} gives a fresh, empty database on it.
 * Blocking: call it from the test thread.
 */
public final class TestPostgres implements AutoCloseable {

  private static EmbeddedPostgres server;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final String uri;

  private TestPostgres(String uri) {
    this.uri = uri;
  }

  public static synchronized TestPostgres start() throws Exception {
    if (server == null) {
      server = EmbeddedPostgres.builder().start();
      EmbeddedPostgres started = server;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          started.close();
        } catch (Exception ignored) {
          // the JVM is going away
        }
      }));
    }
    String name = "switchboard_" + DATABASES.incrementAndGet();
    try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    return new TestPostgres("postgresql://postgres@127.0.0.1:" + server.getPort() + "/" + name);
  }

  /** The connection URI of this test's database, as {@code inbox.postgresUri} takes it. */
  public String uri() {
    return uri;
  }

  /** The database stays until the JVM ends; the server is shared. */
  @Override
  public void close() {
  }
}
