package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The real file system, counting the bytes read from each file: what a start or a check reads. */
final class CountingLogFiles implements LogFiles {

  private final LogFiles real = SystemLogFiles.INSTANCE;
  private final Map<Path, AtomicLong> read = new ConcurrentHashMap<>();

  /** Bytes read from {@code file} so far. */
  long bytesRead(Path file) {
    AtomicLong n = read.get(file.toAbsolutePath());
    return n == null ? 0 : n.get();
  }

  private LogFiles.Channel counted(Path file, LogFiles.Channel channel) {
    AtomicLong n = read.computeIfAbsent(file.toAbsolutePath(), f -> new AtomicLong());
    return new LogFiles.Channel() {
      @Override
      public int read(ByteBuffer dst, long position) throws IOException {
        int r = channel.read(dst, position);
        if (r > 0) {
          n.addAndGet(r);
        }
        return r;
      }

      @Override
      public int write(ByteBuffer src, long position) throws IOException {
        return channel.write(src, position);
      }

      @Override
      public void force(boolean metadata) throws IOException {
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
    return counted(file, real.open(file));
  }

  @Override
  public Channel create(Path file) throws IOException {
    return counted(file, real.create(file));
  }

  @Override
  public List<Path> list(Path dir) throws IOException {
    return real.list(dir);
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    real.createDirectories(dir);
  }

  @Override
  public void rename(Path from, Path to) throws IOException {
    real.rename(from, to);
  }

  @Override
  public void delete(Path file) throws IOException {
    real.delete(file);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    real.syncDirectory(dir);
  }
}
