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
 * The index files a start may take sealed segments from, read (what {@code reader} reads of each:
 * a start reads their summaries) on two threads of the start's own, a few files ahead of its
 * segment-by-segment pass: reading them is most of what a start does, and the pass turns what it
 * takes into the heap's state meanwhile. At most {@link #AHEAD} files are read ahead, so the heap
 * holds at most that many reads at once.
 *
 * @param <T> what is read of each file
 */
final class IndexReads<T> implements AutoCloseable {

  /** Reads what the start needs of one file; a failure is thrown. Called on the pool's threads. */
  interface Reader<T> {
    T read(Path file) throws IOException;
  }

  static final int THREADS = 2;
  static final int AHEAD = 3;

  private record Read<T>(Path file, Future<T> bytes) {
  }

  private final Reader<T> reader;
  private final ExecutorService pool;
  private final Deque<Path> waiting;
  private final Deque<Read<T>> reading = new ArrayDeque<>();

  /** {@code indexFiles}: in the order the start will ask for them. */
  IndexReads(List<Path> indexFiles, Reader<T> reader) {
    this.reader = reader;
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
      reading.add(new Read<>(file, pool.submit(() -> reader.read(file))));
    }
  }

  /**
   * What was read of {@code file}, waiting for it; a failure reading it is thrown. Files read ahead of it that were not asked for are dropped; a file never listed is
   * read now.
   */
  T take(Path file) throws IOException {
    if (!waiting.contains(file) && reading.stream().noneMatch(r -> r.file().equals(file))) {
      return reader.read(file);
    }
    while (!reading.peek().file().equals(file)) {
      reading.poll().bytes().cancel(true);
      fill();
    }
    Read<T> read = reading.poll();
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
