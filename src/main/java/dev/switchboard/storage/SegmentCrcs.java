package dev.switchboard.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The CRC-32C of each sealed segment a start may take from its index, computed ahead of the start's
 * segment-by-segment pass on two threads of its own, so that checking a large log is not one
 * single-threaded stream. Each file is opened, read and closed through {@link LogFiles}.
 */
final class SegmentCrcs implements AutoCloseable {

  static final int THREADS = 2;

  private final ExecutorService pool;
  private final Map<Path, Future<Integer>> crcs = new HashMap<>();

  SegmentCrcs(LogFiles files, List<Path> segmentFiles) {
    pool = Executors.newFixedThreadPool(THREADS, task -> {
      Thread thread = new Thread(task, "inbox-log-check");
      thread.setDaemon(true);
      return thread;
    });
    for (Path file : segmentFiles) {
      crcs.put(file, pool.submit(() -> {
        try (LogFiles.Channel channel = files.open(file)) {
          return SegmentIndex.crcOf(channel, channel.size(), file);
        }
      }));
    }
  }

  /** The CRC-32C of {@code file} as it was read, waiting for it; an I/O failure reading it is thrown. */
  int crc(Path file) throws IOException {
    Future<Integer> crc = crcs.get(file);
    if (crc == null) {
      throw new IllegalStateException(file + " was not checked ahead");
    }
    try {
      return crc.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while checking " + file, e);
    }
  }

  /** Stops checks not needed any more (the start failed, or the segments after a bad one are read whole). */
  @Override
  public void close() {
    pool.shutdownNow();
  }
}
