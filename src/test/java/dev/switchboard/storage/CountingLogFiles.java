package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The real file system, counting the bytes read from each file: what a start or a check reads. */
final class CountingLogFiles extends ForwardingLogFiles {

  private final Map<Path, AtomicLong> read = new ConcurrentHashMap<>();

  /** Bytes read from {@code file} so far. */
  long bytesRead(Path file) {
    AtomicLong n = read.get(file.toAbsolutePath());
    return n == null ? 0 : n.get();
  }

  private Channel counted(Path file, Channel channel) {
    AtomicLong n = read.computeIfAbsent(file.toAbsolutePath(), f -> new AtomicLong());
    return new ForwardingChannel(channel) {
      @Override
      public int read(ByteBuffer dst, long position) throws IOException {
        int r = super.read(dst, position);
        if (r > 0) {
          n.addAndGet(r);
        }
        return r;
      }
    };
  }

  @Override
  public Channel open(Path file) throws IOException {
    return counted(file, super.open(file));
  }

  @Override
  public Channel create(Path file) throws IOException {
    return counted(file, super.create(file));
  }
}
