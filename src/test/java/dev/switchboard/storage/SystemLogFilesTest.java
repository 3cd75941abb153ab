package dev.switchboard.storage;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The totals behind {@code switchboard_store_written_bytes_total} and {@code switchboard_store_syncs_total}, on real files. */
class SystemLogFilesTest {

  @TempDir
  Path dir;

  @Test
  @DisplayName("bytes written through created and reopened files add up, and each file or directory sync counts once")
  void countsWritesAndSyncs() throws Exception {
    SystemLogFiles files = new SystemLogFiles();
    Path file = dir.resolve("segment");
    try (LogFiles.Channel created = files.create(file)) {
      created.write(ByteBuffer.wrap(new byte[100]), 0);
      created.force(false);
    }
    try (LogFiles.Channel reopened = files.open(file)) {
      reopened.write(ByteBuffer.wrap(new byte[28]), 100);
      reopened.read(ByteBuffer.allocate(128), 0);
      reopened.force(true);
      assertEquals(128, reopened.size());
    }
    files.syncDirectory(dir);
    assertEquals(128, files.bytesWritten());
    assertEquals(3, files.syncs());
  }
}
