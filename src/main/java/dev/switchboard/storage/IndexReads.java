package dev.switchboard.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The index files a start may take sealed segments from, read and their own CRC-32C checked on two
 * threads of the start's own, a few files ahead of its segment-by-segment pass: reading them is most
 * of what a start does, and the pass turns what it takes into the heap's state meanwhile. At most
 * {@link #AHEAD} files are read ahead, so the heap holds at most that many index files at once.
 */
final class IndexReads implements AutoCloseable {

  static final int THREADS = 2;
  static final int AHEAD = 3;

  private record Read(Path file, Future<SegmentIndex.FileBytes> bytes) {
  }

  private final LogFiles files;
  private final ExecutorService pool;
  private final Deque<Path> waiting;
  private final Deque<Read> reading = new ArrayDeque<>();

  /** {@code indexFiles}: in the order the start will ask for them. */
  IndexReads(LogFiles files, List<Path> indexFiles) {
    this.files = files;
    this.waiting = new ArrayDeque<>(indexFiles);
    pool = Executors.newFixedThreadPool(THREADS, task -> {
      Thread thread = new Thread(task, "inbox-log-index");
      thread.setDaemon(true);
      return thread;
    });
    fill();
  }

  private void fill() {
    while (reading.size() < AHEAD && !waiting.isEmpty()) {
      Path file = waiting.poll();
      reading.add(new Read(file, pool.submit(() -> SegmentIndex.readFile(files, file))));
    }
  }

  /**
   * The bytes of {@code file} (null if it cannot be an index), waiting for them; a failure reading it
   * is thrown. Files read ahead of it that were not asked for are dropped; a file never listed is
   * read now.
   */
  SegmentIndex.FileBytes take(Path file) throws IOException {
    if (!waiting.contains(file) && reading.stream().noneMatch(r -> r.file().equals(file))) {
      return SegmentIndex.readFile(files, file);
    }
    while (!reading.peek().file().equals(file)) {
      reading.poll().bytes().cancel(true);
      fill();
    }
    Read read = reading.poll();
    fill();
    try {
      return read.bytes().get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading " + file, e);
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
