package dev.switchboard;

import dev.switchboard.support.ProcessServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start line tells an operator which inbox engine the node runs, as configured. */
class StartLineIT {

  @TempDir
  Path dataDir;

  @ParameterizedTest(name = "inbox.engine={0}")
  @CsvSource({"log, inbox on the log in ", "sqlite, inbox on SQLite in "})
  @DisplayName("the start line names the configured inbox engine")
  void namesTheEngine(String engine, String expected) throws Exception {
    try (ProcessServer server = ProcessServer.start(dataDir,
        new JsonObject().put("inbox", new JsonObject().put("engine", engine)), List.of(), List.of())) {
      String line = server.startedLine().get(60, TimeUnit.SECONDS);
      assertTrue(line.contains(expected), line);
      assertTrue(line.contains(dataDir.toString()), line);
    }
  }
}
