package dev.switchboard.bench;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * Receipt accounting of {@code rooms --receipts}. Every accepted room message asked for a
 * {@code delivered} receipt, so its sender is owed one from each other member of the room; every
 * room {@code read} a member sends is owed to each other member. Each must arrive once, to the
 * right user. Member {@code i} belongs to room {@code i / members}, as in {@link RoomLedger};
 * touched only on the generator's event loop.
 */
final class ReceiptLedger {

  private final int rooms;
  private final int members;
  /** Per room: msgId of each message seen (from its accepted or a member's copy) to its roomSeq. */
  private final Map<String, Long>[] roomSeqOf;
  /** Per room: roomSeq to 1 + the member that sent it, for the messages accepted with a receipt asked. */
  private final int[][] senderOf;
  /** Per room: the roomSeqs of those messages. */
  private final BitSet[] receipted;
  private final long[] receiptedCount;
  /** Per member: the roomSeqs of the messages it sent, and those whose delivered receipt "by" it arrived. */
  private final BitSet[] sentBy;
  private final BitSet[] deliveredBy;
  /** Per room: reader and upTo of each read sent, to its index in the room's reads. */
  private final Map<String, Integer>[] readIndex;
  private final int[] reads;
  /** Per member: the reads it sent, and the indexes (in its room) of the reads of others it got. */
  private final long[] readsSentBy;
  private final BitSet[] readsGot;

  long deliveredDistinct;
  long deliveredDuplicates;
  long readsDistinct;
  long readsDuplicates;
  /** Receipts that name no message or read of this run, reach the wrong user, or come from the reader itself. */
  long foreign;

  @SuppressWarnings("unchecked")
  ReceiptLedger(int rooms, int members) {
    this.rooms = rooms;
    this.members = members;
    roomSeqOf = new Map[rooms];
    senderOf = new int[rooms][];
    receipted = new BitSet[rooms];
    receiptedCount = new long[rooms];
    readIndex = new Map[rooms];
    reads = new int[rooms];
    for (int k = 0; k < rooms; k++) {
      roomSeqOf[k] = new HashMap<>();
      senderOf[k] = new int[64];
      receipted[k] = new BitSet();
      readIndex[k] = new HashMap<>();
    }
    int users = rooms * members;
    sentBy = new BitSet[users];
    deliveredBy = new BitSet[users];
    readsSentBy = new long[users];
    readsGot = new BitSet[users];
    for (int i = 0; i < users; i++) {
      sentBy[i] = new BitSet();
      deliveredBy[i] = new BitSet();
      readsGot[i] = new BitSet();
    }
  }

  private int roomOf(int member) {
    return member / members;
  }

  private boolean isMember(int i, int k) {
    return i >= 0 && i < rooms * members && roomOf(i) == k;
  }

  /** A message of room {@code k} has {@code msgId} and {@code roomSeq} (told by its accepted or any member's copy). */
  void onMessage(int k, String msgId, long roomSeq) {
    if (k >= 0 && k < rooms && msgId != null && roomSeq > 0) {
      roomSeqOf[k].putIfAbsent(msgId, roomSeq);
    }
  }

  /** Member {@code sender}'s message to its room, sent with a receipt asked, was accepted as {@code roomSeq}. */
  void onAccepted(int sender, String msgId, long roomSeq) {
    int k = roomOf(sender);
    if (roomSeq <= 0 || roomSeq > Integer.MAX_VALUE) {
      return;
    }
    onMessage(k, msgId, roomSeq);
    int s = (int) roomSeq;
    if (s >= senderOf[k].length) {
      senderOf[k] = Arrays.copyOf(senderOf[k], Math.max(s + 1, senderOf[k].length * 2));
    }
    if (senderOf[k][s] == 0) {
      senderOf[k][s] = sender + 1;
      receipted[k].set(s);
      receiptedCount[k]++;
      sentBy[sender].set(s);
    }
  }

  /** User {@code receiver} got a delivered receipt: member {@code by} of room {@code k} acked the message {@code upTo}. */
  void onDelivered(int receiver, int k, int by, String upTo) {
    Long roomSeq = k >= 0 && k < rooms && upTo != null ? roomSeqOf[k].get(upTo) : null;
    int s = roomSeq == null || roomSeq >= senderOf[k].length ? 0 : (int) (long) roomSeq;
    if (s == 0 || senderOf[k][s] != receiver + 1 || !isMember(by, k) || by == receiver) {
      foreign++;
      return;
    }
    if (deliveredBy[by].get(s)) {
      deliveredDuplicates++;
      return;
    }
    deliveredBy[by].set(s);
    deliveredDistinct++;
  }

  /** Member {@code reader} sent a room read up to {@code upTo}; a reader never reads the same upTo twice. */
  void onReadSent(int reader, String upTo) {
    int k = roomOf(reader);
    if (readIndex[k].putIfAbsent(reader + "@" + upTo, reads[k]) == null) {
      reads[k]++;
      readsSentBy[reader]++;
    }
  }

  /** User {@code receiver} got a read receipt of room {@code k}: member {@code by} read up to {@code upTo}. */
  void onRead(int receiver, int k, int by, String upTo) {
    Integer r = isMember(receiver, k) && isMember(by, k) && by != receiver ? readIndex[k].get(by + "@" + upTo) : null;
    if (r == null) {
      foreign++;
      return;
    }
    if (readsGot[receiver].get(r)) {
      readsDuplicates++;
      return;
    }
    readsGot[receiver].set(r);
    readsDistinct++;
  }

  /** Delivered receipts owed: one per accepted message from each member but its sender. */
  long deliveredDue() {
    long due = 0;
    for (long c : receiptedCount) {
      due += c * (members - 1);
    }
    return due;
  }

  /** Delivered receipts not (yet) received, counted per member so a surplus elsewhere hides nothing. */
  long deliveredLost() {
    long lost = 0;
    for (int i = 0; i < deliveredBy.length; i++) {
      BitSet missing = (BitSet) receipted[roomOf(i)].clone();
      missing.andNot(deliveredBy[i]);
      missing.andNot(sentBy[i]);
      lost += missing.cardinality();
    }
    return lost;
  }

  long readsSent() {
    long n = 0;
    for (int r : reads) {
      n += r;
    }
    return n;
  }

  /** Read receipts owed: each read sent, once to every other member of its room. */
  long readsDue() {
    long due = 0;
    for (int r : reads) {
      due += (long) r * (members - 1);
    }
    return due;
  }

  /** Read receipts not (yet) received, counted per receiving member. */
  long readsLost() {
    long lost = 0;
    for (int i = 0; i < readsGot.length; i++) {
      lost += Math.max(0, reads[roomOf(i)] - readsSentBy[i] - readsGot[i].cardinality());
    }
    return lost;
  }

  /** Whether every receipt owed so far has arrived. */
  boolean complete() {
    return deliveredDistinct >= deliveredDue() && readsDistinct >= readsDue();
  }

  /** The counts at one moment; {@link #since} turns two into what happened in between. */
  Counts counts() {
    return new Counts(deliveredDue(), deliveredDistinct, deliveredDuplicates, deliveredLost(), readsSent(), readsDue(),
        readsDistinct, readsDuplicates, readsLost(), foreign);
  }

  /** Receipt counts: owed, received (distinct), received twice, owed and missing, and foreign. */
  record Counts(long deliveredDue, long delivered, long deliveredDuplicates, long deliveredLost, long readsSent,
                long readsDue, long reads, long readsDuplicates, long readsLost, long foreign) {

    /** What changed since {@code before}; lost is what is missing now beyond what was missing then. */
    Counts since(Counts before) {
      return new Counts(deliveredDue - before.deliveredDue, delivered - before.delivered,
          deliveredDuplicates - before.deliveredDuplicates, Math.max(0, deliveredLost - before.deliveredLost),
          readsSent - before.readsSent, readsDue - before.readsDue, reads - before.reads,
          readsDuplicates - before.readsDuplicates, Math.max(0, readsLost - before.readsLost), foreign - before.foreign);
    }

    /** Receipt frames received, both kinds. */
    long frames() {
      return delivered + reads;
    }

    boolean clean() {
      return deliveredLost == 0 && deliveredDuplicates == 0 && readsLost == 0 && readsDuplicates == 0 && foreign == 0;
    }
  }
}
