package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The log engine's file operations on the real file system, with two running totals for the
 * metrics: bytes written and syncs ({@code fsync}/{@code fdatasync} of files and directories).
 * Counting here, around the file system, keeps the engine's own classes free of meters; a scrape
 * reads the totals from another thread, hence atomics (one writer at a time, so they are never
 * contended).
 */
final class SystemLogFiles implements LogFiles {

  /** For stores whose totals nobody reads; a store shown in the metrics has an instance of its own. */
  static final SystemLogFiles INSTANCE = new SystemLogFiles();

  private final AtomicLong bytesWritten = new AtomicLong();
  private final AtomicLong syncs = new AtomicLong();

  /** Bytes written to log files since start (including records cut back after a failed write). */
  long bytesWritten() {
    return bytesWritten.get();
  }

  /** Syncs of log files and of the log's directory since start. */
  long syncs() {
    return syncs.get();
  }

  private final class NioChannel implements Channel {
    private final FileChannel channel;

    NioChannel(FileChannel channel) {
      this.channel = channel;
    }

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
  }

  @Override
  public Channel open(Path file) throws IOException {
    return new NioChannel(FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
  }

  @Override
  public Channel create(Path file) throws IOException {
    return new NioChannel(FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE));
  }

  @Override
  public List<Path> list(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      return list.sorted().toList();
    }
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    Files.createDirectories(dir);
  }

  @Override
  public void rename(Path from, Path to) throws IOException {
    Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public void delete(Path file) throws IOException {
    Files.deleteIfExists(file);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    syncs.incrementAndGet();
    FileChannel d;
    try {
      d = FileChannel.open(dir, StandardOpenOption.READ);
    } catch (IOException e) {
      // Not every platform can open a directory (Windows); there a file's own sync covers its entry.
      return;
    }
    try (d) {
      d.force(true);
    }
  }
}
