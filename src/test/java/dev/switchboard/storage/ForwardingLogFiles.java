package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * The real file system, passed through: a test's file seam extends it and overrides only the
 * operations it watches or breaks.
 */
abstract class ForwardingLogFiles implements LogFiles {

  private final LogFiles real = SystemLogFiles.INSTANCE;

  @Override
  public Channel open(Path file) throws IOException {
    return real.open(file);
  }

  @Override
  public Channel create(Path file) throws IOException {
    return real.create(file);
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

  /** A channel passed through, for a seam that overrides some of its calls. */
  static class ForwardingChannel implements Channel {
    private final Channel channel;

    ForwardingChannel(Channel channel) {
      this.channel = channel;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return channel.read(dst, position);
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
  }
}
