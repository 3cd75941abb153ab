package dev.switchboard.storage;

import dev.switchboard.support.ProcessServer;
import dev.switchboard.support.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real full disk: the server's data directory on a 3 MiB tmpfs, half of it taken by a ballast
 * file, while a client streams sends through the real server and segments roll. Mounting needs
 * root; where it cannot mount, this test is skipped, saying so, and
 * {@code LogFaultTest.fullDiskOnTheSeam} runs the same scenario on the file seam's ENOSPC.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
class FullDiskIT {

  @TempDir
  Path tmp;

  private Path mount;
  private boolean mounted;

  @BeforeEach
  void mountTmpfs() throws Exception {
    mount = tmp.resolve("disk");
    Files.createDirectories(mount);
    String why = run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mount.toString());
    mounted = why == null;
    assumeTrue(mounted, "cannot mount a tmpfs for a real full disk (" + why
        + "); LogFaultTest.fullDiskOnTheSeam runs the same scenario on the seam's ENOSPC");
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted) {
      String why = run("umount", mount.toString());
      if (why != null) {
        run("umount", "-l", mount.toString());
      }
    }
  }

  /** Runs a command; null if it succeeded, else its output. */
  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    return p.waitFor() == 0 ? null : "exit " + p.exitValue() + ": " + out;
  }

  private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Sends one message and waits for its answer: the accepted frame, or the error frame. */
  private static JsonObject sendOne(WsClient client, String id, String body) throws Exception {
    await(client.sendMessage(id, "bob", body));
    JsonObject frame = await(client.nextJson());
    while ("synced".equals(frame.getString("type"))) {
      frame = await(client.nextJson());
    }
    return frame;
  }

  @Test
  @DisplayName("with the disk full, sends are refused with unavailable, none accepted is lost, sends are accepted again once space is freed, and all survive a restart")
  void fullDisk(Vertx vertx) throws Exception {
    Path ballast = mount.resolve("ballast");
    Files.write(ballast, new byte[1 << 20]);
    JsonObject overrides = new JsonObject()
        .put("inbox", new JsonObject().put("segmentMegabytes", 1))
        .put("limits", new JsonObject().put("messagesPerSecond", 1_000_000).put("messageBurst", 1_000_000));
    String padding = "x".repeat(8_000);
    List<String> accepted = new ArrayList<>();
    int refused = 0;
    ProcessServer first = ProcessServer.start(mount, overrides, List.of(), List.of());
    try (ProcessServer server = first) {
      WsClient alice = await(WsClient.connect(vertx, server.gatewayPort(), "/ws?user=alice&device=laptop", true));
      int consecutiveRefusals = 0;
      for (int i = 0; i < 2_000 && consecutiveRefusals < 5; i++) {
        JsonObject answer = sendOne(alice, "full-" + i, "full " + i + " " + padding);
        if ("accepted".equals(answer.getString("type"))) {
          accepted.add(answer.getString("msgId"));
          consecutiveRefusals = 0;
        } else {
          assertEquals("error", answer.getString("type"), answer.encode());
          assertEquals("unavailable", answer.getString("code"), answer.encode());
          consecutiveRefusals++;
          refused++;
        }
      }
      assertTrue(refused >= 5, "the disk filled up: " + accepted.size() + " accepted, " + refused + " refused");
      assertTrue(accepted.size() > 150, "more than a segment was written first: " + accepted.size());
      try (var files = Files.list(mount.resolve("log"))) {
        for (Path p : files.filter(f -> f.toString().endsWith(".log")).toList()) {
          assertTrue(Files.size(p) >= LogSegments.FILE_HEADER, "no empty segment: " + p);
        }
      }

      Files.delete(ballast);
      for (int i = 0; i < 20; i++) {
        JsonObject answer = sendOne(alice, "freed-" + i, "freed " + i + " " + padding);
        assertEquals("accepted", answer.getString("type"), "accepted once space is freed: " + answer.encode());
        accepted.add(answer.getString("msgId"));
      }
      await(alice.close());
      server.terminate();
    } catch (Throwable t) {
      throw new AssertionError("the server said:\n" + first.output(), t);
    }

    try (ProcessServer again = ProcessServer.start(mount, overrides, List.of(), List.of())) {
      WsClient bob = await(WsClient.connect(vertx, again.gatewayPort(), "/ws?user=bob&device=phone", true));
      List<JsonObject> messages = await(bob.expect("message", accepted.size()));
      for (int i = 0; i < messages.size(); i++) {
        assertEquals(accepted.get(i), messages.get(i).getString("msgId"), "message " + i);
        assertEquals(i + 1L, messages.get(i).getLong("seq"), "seqs without holes or doubles");
      }
      assertEquals("synced", await(bob.nextJson()).getString("type"), "nothing refused was stored");
      await(bob.close());
    }
  }
}
