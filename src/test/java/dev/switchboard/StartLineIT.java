package dev.switchboard;

import dev.switchboard.support.ProcessServer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start line tells an operator which inbox engine the node runs, as configured. */
class StartLineIT {

  @TempDir
  Path dataDir;

  @Test
  @DisplayName("the start line names the configured inbox engine and its directory")
  void namesTheEngine() throws Exception {
    try (ProcessServer server = ProcessServer.start(dataDir,
        new JsonObject().put("inbox", new JsonObject().put("engine", "log")), List.of(), List.of())) {
      String line = server.startedLine().get(60, TimeUnit.SECONDS);
      assertTrue(line.contains("inbox on the log in "), line);
      assertTrue(line.contains(dataDir.toString()), line);
    }
  }
}
