package dev.switchboard.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Every file operation of the log engine, in one place, so that tests can make any one of them
 * fail the way a disk does (an I/O error, a full disk) and check what the store does next.
 * Production uses {@link SystemLogFiles}.
 */
interface LogFiles {

  /** An open file: positional reads and writes, as {@link java.nio.channels.FileChannel} has them. */
  interface Channel extends AutoCloseable {
    int read(ByteBuffer dst, long position) throws IOException;

    int write(ByteBuffer src, long position) throws IOException;

    /** Makes what was written durable ({@code fsync}, or {@code fdatasync} without metadata). */
    void force(boolean metadata) throws IOException;

    void truncate(long size) throws IOException;

    long size() throws IOException;

    @Override
    void close() throws IOException;
  }

  /** Opens an existing file for reading and writing. */
  Channel open(Path file) throws IOException;

  /** Creates a new file (failing if it exists) for reading and writing. */
  Channel create(Path file) throws IOException;

  /** The entries of a directory, sorted by name. */
  List<Path> list(Path dir) throws IOException;

  void createDirectories(Path dir) throws IOException;

  /** Renames atomically (the target must not exist): a reader sees the old name or the new one. */
  void rename(Path from, Path to) throws IOException;

  /** Deletes a file if it exists. */
  void delete(Path file) throws IOException;

  /** Makes the directory's entries (created, renamed, deleted files) durable. */
  void syncDirectory(Path dir) throws IOException;
}
