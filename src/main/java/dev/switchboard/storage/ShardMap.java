package dev.switchboard.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Which PostgreSQL shard holds a user's inbox: the first 8 bytes of SHA-256 over the user id's
 * UTF-8 bytes, read as an unsigned big-endian number, modulo the shard count. Stable across JVMs,
 * versions and languages (never {@link String#hashCode}), so any tool can compute it; changing the
 * count moves most users, which is why the shards refuse to start on a count they were not given.
 */
public final class ShardMap {

  private final int count;

  public ShardMap(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("a shard map needs at least one shard, got " + count);
    }
    this.count = count;
  }

  public int count() {
    return count;
  }

  /** The index, 0..count-1, of the shard holding {@code user}'s inbox. */
  public int shardOf(String user) {
    return count == 1 ? 0 : shardOf(user, count);
  }

  public static int shardOf(String user, int count) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
    long prefix = ByteBuffer.wrap(sha256.digest(user.getBytes(StandardCharsets.UTF_8)), 0, 8).getLong();
    return (int) Long.remainderUnsigned(prefix, count);
  }
}
