package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The real file system with faults on demand: the Nth operation (counting every kind, or only some)
 * fails with an {@link IOException}, or every write and create fails as on a full disk until the
 * space is "freed". A failing write may first write part of its bytes, as a real one can.
 */
final class FaultyLogFiles implements LogFiles {

  enum Op { OPEN, CREATE, READ, WRITE, FORCE, TRUNCATE, SIZE, CLOSE, LIST, MKDIRS, RENAME, DELETE, SYNC_DIR }

  static final String ENOSPC = "No space left on device";

  private final LogFiles real = SystemLogFiles.INSTANCE;
  private Set<Op> counted = EnumSet.allOf(Op.class);
  private long calls;
  private long failAt = -1;
  private long fullAt = -1;
  private String failMessage = "Input/output error";
  private boolean full;
  private boolean realSyncs = true;
  private Set<Op> broken = EnumSet.noneOf(Op.class);
  /** What failed: the op and its number, for messages of a failing test. */
  private String failed;

  /** Fails the {@code n}th counted operation from now on (1 = the next), once. */
  synchronized FaultyLogFiles failAt(long n, Set<Op> kinds, String message) {
    this.counted = EnumSet.copyOf(kinds);
    this.calls = 0;
    this.failAt = n;
    this.failMessage = message;
    this.failed = null;
    return this;
  }

  synchronized FaultyLogFiles failAt(long n) {
    return failAt(n, EnumSet.allOf(Op.class), "Input/output error");
  }

  /** Every operation of these kinds fails from now on (with an I/O error), besides the Nth. */
  synchronized FaultyLogFiles broken(Set<Op> kinds) {
    this.broken = EnumSet.copyOf(kinds);
    return this;
  }

  /**
   * Counts (and fails) syncs without making them: for runs that never lose power, where only the
   * store's answer to a failed sync matters and hundreds of real ones would only cost time.
   */
  synchronized FaultyLogFiles withoutRealSyncs() {
    this.realSyncs = false;
    return this;
  }

  private synchronized boolean realSyncs() {
    return realSyncs;
  }

  /** Operations counted since the last {@link #failAt} (or since creation). */
  synchronized long calls() {
    return calls;
  }

  synchronized String failed() {
    return failed;
  }

  /** The disk fills up at the {@code n}th operation from now on (1 = the next): see {@link #full}. */
  synchronized FaultyLogFiles fullAt(long n) {
    this.calls = 0;
    this.fullAt = n;
    return this;
  }

  /** While true, writes that would grow a file and creations fail with ENOSPC (a pending {@link #fullAt} is dropped). */
  synchronized void full(boolean full) {
    this.full = full;
    this.fullAt = -1;
  }

  private synchronized void check(Op op) throws IOException {
    if (broken.contains(op)) {
      throw new IOException("Input/output error (injected: every " + op + ")");
    }
    if (!counted.contains(op)) {
      return;
    }
    calls++;
    if (calls == fullAt) {
      full = true;
    }
    if (calls == failAt) {
      failed = op + " #" + calls;
      throw new IOException(failMessage + " (injected: " + failed + ")");
    }
  }

  private synchronized boolean isFull() {
    return full;
  }

  private final class Faulty implements Channel {
    private final Channel channel;

    Faulty(Channel channel) {
      this.channel = channel;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      check(Op.READ);
      return channel.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      try {
        check(Op.WRITE);
      } catch (IOException e) {
        // A torn write: half of it reached the file.
        ByteBuffer half = src.duplicate();
        half.limit(half.position() + half.remaining() / 2);
        channel.write(half, position);
        throw e;
      }
      if (isFull() && position + src.remaining() > channel.size()) {
        throw new IOException(ENOSPC);
      }
      return channel.write(src, position);
    }

    @Override
    public void force(boolean metadata) throws IOException {
      check(Op.FORCE);
      if (realSyncs()) {
        channel.force(metadata);
      }
    }

    @Override
    public void truncate(long size) throws IOException {
      check(Op.TRUNCATE);
      channel.truncate(size);
    }

    @Override
    public long size() throws IOException {
      check(Op.SIZE);
      return channel.size();
    }

    @Override
    public void close() throws IOException {
      try {
        check(Op.CLOSE);
      } finally {
        channel.close();
      }
    }
  }

  @Override
  public Channel open(Path file) throws IOException {
    check(Op.OPEN);
    return new Faulty(real.open(file));
  }

  @Override
  public Channel create(Path file) throws IOException {
    check(Op.CREATE);
    if (isFull()) {
      throw new IOException(ENOSPC);
    }
    return new Faulty(real.create(file));
  }

  @Override
  public List<Path> list(Path dir) throws IOException {
    check(Op.LIST);
    return real.list(dir);
  }

  @Override
  public void createDirectories(Path dir) throws IOException {
    check(Op.MKDIRS);
    real.createDirectories(dir);
  }

  @Override
  public void rename(Path from, Path to) throws IOException {
    check(Op.RENAME);
    real.rename(from, to);
  }

  @Override
  public void delete(Path file) throws IOException {
    check(Op.DELETE);
    real.delete(file);
  }

  @Override
  public void syncDirectory(Path dir) throws IOException {
    check(Op.SYNC_DIR);
    if (realSyncs()) {
      real.syncDirectory(dir);
    }
  }
}
