package dev.switchboard.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cumulative per-user ledger a segment's index holds: for each user with messages in any sealed
 * segment from the chain's {@link #origin} up to this segment, how many ({@code C}), the highest seq
 * ({@code M}), and the base positions of the first ({@code F}) and the last ({@code L}) segment holding
 * them. The ledger of a segment is the one of the segment before it plus its own summary, so a start
 * gets every user's sealed messages in segments {@code o..n} from two ledgers and one summary
 * ({@code C_n - C_o + count_o}) instead of every segment's summary.
 *
 * <p>{@link #chain} names exactly which segments a ledger sums: a hash over the base, length and
 * CRC-32C of each segment from the origin on. A start recomputes it from the index headers of the
 * segments it has, so a ledger is used only for the very contents it was made from (a segment
 * repaired or replaced since changes its CRC-32C and breaks the chain).
 *
 * <p>Only the indexing worker (and the start before it) touch a ledger, one at a time.
 *
 * <pre>
 * ledger: count:int32, each user (length:int32 UTF-8) messages:int64 maxSeq:int64 first:int64 last:int64
 * </pre>
 */
final class Ledger {

  /** Where every chain starts, before its origin segment. */
  private static final long SEED = 0x5342_4c45_4447_4552L;

  private final long origin;
  private long base;
  private long chain;
  /** Per user: messages, highest seq, first and last segment base. */
  private final Map<String, long[]> users;

  private Ledger(long origin, long base, long chain, Map<String, long[]> users) {
    this.origin = origin;
    this.base = base;
    this.chain = chain;
    this.users = users;
  }

  /** An empty ledger, before the segment at {@code origin}: the start of a chain. */
  static Ledger before(long origin) {
    return new Ledger(origin, -1, SEED, new HashMap<>());
  }

  /** The ledger read from an index, of the segment at {@code base}. */
  static Ledger parse(ByteBuffer bytes, long origin, long base, long chain) {
    ByteBuffer in = bytes.duplicate();
    int count = in.getInt();
    Map<String, long[]> users = new HashMap<>(Math.max(16, count * 4 / 3 + 1));
    for (int i = 0; i < count; i++) {
      String user = LogEntries.string(in);
      users.put(user, new long[] {in.getLong(), in.getLong(), in.getLong(), in.getLong()});
    }
    if (in.hasRemaining()) {
      throw new IndexOutOfBoundsException("the ledger holds " + in.remaining() + " bytes more than it lists");
    }
    return new Ledger(origin, base, chain, users);
  }

  /** The chain after {@code previous} once the segment at {@code base} ({@code length} bytes, CRC-32C {@code crc}) is added. */
  static long link(long previous, long base, long length, int crc) {
    long h = previous;
    h = StableHash.finish(h ^ base) * 31 + length;
    h = StableHash.finish(h) * 31 + crc;
    return StableHash.finish(h);
  }

  /** The chain of a ledger that starts at the segment at {@code base}. */
  static long first(long base, long length, int crc) {
    return link(SEED, base, length, crc);
  }

  long origin() {
    return origin;
  }

  /** The base of the segment this ledger is of; -1 before the first. */
  long base() {
    return base;
  }

  long chain() {
    return chain;
  }

  int size() {
    return users.size();
  }

  /** Messages, highest seq, first and last segment base of {@code user}, or null if no segment of the chain holds it. */
  long[] get(String user) {
    return users.get(user);
  }

  Map<String, long[]> entries() {
    return users;
  }

  /** The ledger's bytes once {@code summary} (of the segment at {@code segmentBase}) is added, without changing it. */
  ByteBuffer bytesWith(SegmentIndex.Summary summary, long segmentBase) {
    Map<String, Integer> inSummary = new HashMap<>(summary.users().length * 4 / 3 + 1);
    for (int i = 0; i < summary.users().length; i++) {
      inSummary.put(summary.users()[i], i);
    }
    List<byte[]> names = new ArrayList<>(users.size() + summary.users().length);
    long size = 4;
    for (String user : users.keySet()) {
      byte[] b = user.getBytes(StandardCharsets.UTF_8);
      names.add(b);
      size += 4 + b.length + 32;
    }
    for (String user : summary.users()) {
      if (!users.containsKey(user)) {
        byte[] b = user.getBytes(StandardCharsets.UTF_8);
        names.add(b);
        size += 4 + b.length + 32;
      }
    }
    if (size > Integer.MAX_VALUE) {
      throw new IllegalStateException("the ledger exceeds what an index holds");
    }
    ByteBuffer out = ByteBuffer.allocate((int) size);
    out.putInt(names.size());
    int next = 0;
    for (Map.Entry<String, long[]> e : users.entrySet()) {
      long[] v = e.getValue();
      Integer i = inSummary.get(e.getKey());
      byte[] b = names.get(next++);
      out.putInt(b.length).put(b);
      if (i == null) {
        out.putLong(v[0]).putLong(v[1]).putLong(v[2]).putLong(v[3]);
      } else {
        out.putLong(v[0] + summary.counts()[i]).putLong(Math.max(v[1], summary.maxSeqs()[i])).putLong(v[2])
            .putLong(segmentBase);
      }
    }
    for (int i = 0; i < summary.users().length; i++) {
      if (!users.containsKey(summary.users()[i])) {
        byte[] b = names.get(next++);
        out.putInt(b.length).put(b).putLong(summary.counts()[i]).putLong(summary.maxSeqs()[i]).putLong(segmentBase)
            .putLong(segmentBase);
      }
    }
    return out.flip();
  }

  /** The chain this ledger has once the segment at {@code segmentBase} is added. */
  long chainWith(long segmentBase, long segmentLength, int segmentCrc) {
    return base < 0 ? first(segmentBase, segmentLength, segmentCrc) : link(chain, segmentBase, segmentLength, segmentCrc);
  }

  /** Adds the summary of the segment at {@code segmentBase} (its index now written): this becomes that segment's ledger. */
  void add(SegmentIndex.Summary summary, long segmentBase, long segmentLength, int segmentCrc) {
    for (int i = 0; i < summary.users().length; i++) {
      long[] v = users.get(summary.users()[i]);
      if (v == null) {
        users.put(summary.users()[i], new long[] {summary.counts()[i], summary.maxSeqs()[i], segmentBase, segmentBase});
      } else {
        v[0] += summary.counts()[i];
        v[1] = Math.max(v[1], summary.maxSeqs()[i]);
        v[3] = segmentBase;
      }
    }
    chain = chainWith(segmentBase, segmentLength, segmentCrc);
    base = segmentBase;
  }
}
