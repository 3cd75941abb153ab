package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The log engine's file operations with two running totals for the metrics: bytes written and
 * syncs ({@code fsync}/{@code fdatasync} of files and directories). Counting here, around the file
 * system, keeps the engine's own classes free of meters; a scrape reads the totals from another
 * thread, hence atomics (one writer at a time, so they are never contended).
 */
final class CountingLogFiles implements LogFiles {

  private final LogFiles files;
  private final AtomicLong bytesWritten = new AtomicLong();
  private final AtomicLong syncs = new AtomicLong();

  CountingLogFiles(LogFiles files) {
    this.files = files;
  }

  /** Bytes written to log files since start (including records cut back after a failed write). */
  long bytesWritten() {
    return bytesWritten.get();
  }

  /** Syncs of log files and of the log's directory since start. */
  long syncs() {
    return syncs.get();
  }

  private Channel counted(Channel channel) {
    return new Channel() {
      @Override
      public int read(ByteBuffer dst, long position) throws IOException {
        return channel.read(dst, position);
      }

      @Override
      public int write(ByteBuffer src, long position) throws IOException {
        int written = channel.write(src, position);
        bytesWritten.addAndGet(written);
        return written;
      }

      @Override
      public void force(boolean metadata) throws IOException {
        // Counted when asked for, failed or not: a sync that failed still went to the disk.
        syncs.incrementAndGet();
        channel.force(metadata);
      }

      @Override
      public void truncate(long size) throws IOException {
        channel.truncate(size);
      }

      @Override
      public long size() throws IOException {
        return channel.size();
      }

      @Override
      public void close() throws IOException {
        channel.close();
      }
    };
  }

  @Override
  public Channel open(Path file) throws IOException {
    return counted(files.open(file));
  }

  @Override
  public Channel create(Path file) throws IOException {
    return counted(files.create(file));
  }

  @Override
  public List<Path> list(Path dir) throws IOException {
    return files.list(dir);
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    files.createDirectories(dir);
  }

  @Override
  public void rename(Path from, Path to) throws IOException {
    files.rename(from, to);
  }

  @Override
  public void delete(Path file) throws IOException {
    files.delete(file);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    syncs.incrementAndGet();
    files.syncDirectory(dir);
  }
}
