package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.bus.SystemInboxes;
import dev.switchboard.protocol.ErrorCode;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Decides what a batch of appends writes: the seq of each copy (the next one in its inbox, so seqs
 * have no holes), refusals for full inboxes, and replays of requests whose idempotency key was seen.
 * Pure logic: the store loads the inputs and writes the plan in one transaction.
 */
public final class AppendPlanner {

  /** A (sender, key) pair: idempotency keys are scoped by sender. */
  public record SendKey(String sender, String key) {
  }

  /** What a key was first used for, and what it answered: a retry must be the same message. */
  public record KeyedResult(String fingerprint, AppendResult result) {
  }

  /** A new idempotency record to store: the results the key will replay. */
  public record NewSendKey(SendKey key, KeyedResult keyed) {
  }

  /**
   * What to write and what to answer, in the order of the requests; {@code roomSeqs} is the new last
   * roomSeq of each room the batch sent to.
   */
  public record Plan(List<AppendResult> results, List<StoredMessage> rows, Map<String, InboxHead> heads,
                     List<NewSendKey> newKeys, Map<String, Long> roomSeqs) {
  }

  /** The rooms a batch may send to, as read inside the commit; an engine without them answers {@link #NO_ROOMS}. */
  public interface RoomLookup {
    RoomRules.View view(String room);
  }

  /** Every room is unknown: messages to rooms are refused with {@code room_not_found}. */
  public static final RoomLookup NO_ROOMS = room -> RoomRules.View.NONE;

  private final long maxMessagesPerUser;
  private final Predicate<String> owns;
  private final int roomReceiptMembers;

  public AppendPlanner(long maxMessagesPerUser) {
    this(maxMessagesPerUser, Integer.MAX_VALUE);
  }

  /** {@code roomReceiptMembers}: the most members a room may have for a message to it to ask for delivered receipts. */
  public AppendPlanner(long maxMessagesPerUser, int roomReceiptMembers) {
    this(maxMessagesPerUser, user -> true, roomReceiptMembers);
  }

  /**
   * A planner for one shard of several: it writes only the recipients {@code owns} accepts and
   * answers {@link #NOT_HERE} for the others, while keys and their fingerprints still cover the
   * whole request, so that every shard holding a part of a send tells a retry from a reused key.
   */
  public AppendPlanner(long maxMessagesPerUser, Predicate<String> owns, int roomReceiptMembers) {
    this.maxMessagesPerUser = maxMessagesPerUser;
    this.owns = owns;
    this.roomReceiptMembers = roomReceiptMembers;
  }

  /** The answer for a recipient whose inbox is on another shard; whoever merges the shards' answers drops it. */
  public static final ErrorCode NOT_HERE = ErrorCode.UNAVAILABLE;

  /**
   * @param heads        current head of every recipient in the batch (absent means an empty inbox)
   * @param existingKeys results stored for keys seen within the idempotency window
   */
  public Plan plan(List<AppendRequest> batch, Map<String, InboxHead> heads, Map<SendKey, KeyedResult> existingKeys) {
    return plan(batch, heads, existingKeys, NO_ROOMS);
  }

  /**
   * @param heads must also hold the head of every member of the rooms sent to
   * @param rooms membership and last roomSeq of the rooms sent to
   */
  public Plan plan(List<AppendRequest> batch, Map<String, InboxHead> heads, Map<SendKey, KeyedResult> existingKeys,
                   RoomLookup rooms) {
    Map<String, InboxHead> updated = new HashMap<>();
    Map<String, Long> roomSeqs = new HashMap<>();
    Map<SendKey, KeyedResult> seenInBatch = new HashMap<>();
    List<AppendResult> results = new ArrayList<>(batch.size());
    List<StoredMessage> rows = new ArrayList<>();
    List<NewSendKey> newKeys = new ArrayList<>();

    for (AppendRequest request : batch) {
      SendKey key = request.idempotencyKey() == null ? null : new SendKey(request.from(), request.idempotencyKey());
      String fingerprint = key == null ? null : fingerprint(request);
      if (key != null) {
        KeyedResult earlier = seenInBatch.getOrDefault(key, existingKeys.get(key));
        if (earlier != null) {
          AppendResult first = earlier.result();
          results.add(sameSend(earlier.fingerprint(), fingerprint, request)
              ? new AppendResult(true, first.results(), first.room(), first.roomSeq())
              : refuseAll(request, ErrorCode.ID_REUSED));
          continue;
        }
      }
      if (request.isRoom()) {
        AppendResult result = planRoom(request, rooms, roomSeqs, heads, updated, rows);
        results.add(result);
        if (result.roomSeq() == 0) {
          // Refused as a whole (no such room, not a member): nothing stored, so a retry is judged afresh.
          continue;
        }
        if (key != null) {
          // The retry's answer is the sender's: the room, its seq and the msgId, not every member's copy.
          AppendResult replay = new AppendResult(false,
              List.of(RecipientResult.stored(request.room(), request.roomMsgId(), 0, request.ts())),
              request.room(), result.roomSeq());
          KeyedResult keyed = new KeyedResult(fingerprint, replay);
          seenInBatch.put(key, keyed);
          newKeys.add(new NewSendKey(key, keyed));
        }
        continue;
      }
      List<RecipientResult> perRecipient = new ArrayList<>(request.recipients().size());
      for (AppendRequest.Recipient recipient : request.recipients()) {
        if (!owns.test(recipient.to())) {
          perRecipient.add(RecipientResult.refused(recipient.to(), NOT_HERE));
          continue;
        }
        InboxHead head = updated.getOrDefault(recipient.to(), heads.getOrDefault(recipient.to(), InboxHead.EMPTY));
        // The server's own inboxes (webhook notifications) are bounded by their own limits, not a user's.
        if (head.stored() >= maxMessagesPerUser && !SystemInboxes.isSystem(recipient.to())) {
          perRecipient.add(RecipientResult.refused(recipient.to(), ErrorCode.INBOX_FULL));
          continue;
        }
        long seq = head.lastSeq() + 1;
        updated.put(recipient.to(), new InboxHead(seq, head.stored() + 1));
        rows.add(new StoredMessage(recipient.msgId(), seq, request.from(), recipient.to(), request.body(), request.ts()));
        perRecipient.add(RecipientResult.stored(recipient.to(), recipient.msgId(), seq, request.ts()));
      }
      AppendResult result = new AppendResult(false, perRecipient);
      results.add(result);
      if (key != null) {
        KeyedResult keyed = new KeyedResult(fingerprint, result);
        seenInBatch.put(key, keyed);
        newKeys.add(new NewSendKey(key, keyed));
      }
    }
    return new Plan(results, rows, updated, newKeys, roomSeqs);
  }

  /**
   * One copy per member, each under the member's next seq, all with the room's next roomSeq and the
   * same body (one String, which the log engine stores once); a full inbox is skipped with
   * {@code inbox_full} in its result, a member on another shard answered {@link #NOT_HERE}.
   */
  private AppendResult planRoom(AppendRequest request, RoomLookup rooms, Map<String, Long> roomSeqs,
                                Map<String, InboxHead> heads, Map<String, InboxHead> updated, List<StoredMessage> rows) {
    RoomRules.View room = rooms.view(request.room());
    ErrorCode refused = RoomRules.checkSend(request, room, roomReceiptMembers);
    if (refused != null) {
      return new AppendResult(false, List.of(RecipientResult.refused(request.room(), refused)), request.room(), 0);
    }
    if (Senders.isAnyReceipt(request.from())) {
      List<String> to = Senders.isDelivered(request.from()) ? List.of(request.recipients().get(0).to())
          : room.members().stream().filter(m -> !m.equals(Senders.shown(request.from()))).toList();
      return planRoomReceipt(request, to, roomSeqs.getOrDefault(request.room(), room.roomSeq()), heads, updated, rows);
    }
    long roomSeq = roomSeqs.getOrDefault(request.room(), room.roomSeq()) + 1;
    roomSeqs.put(request.room(), roomSeq);
    List<RecipientResult> perMember = copies(request, room.members(), request.room(), roomSeq, heads, updated, rows);
    return new AppendResult(false, perMember, request.room(), roomSeq);
  }

  /**
   * A receipt about a room's messages, to members of the room as it is at {@code roomSeq} (read
   * inside this commit, so after every change committed before it): a read goes to every member
   * but the reader, a delivered receipt to the message's sender. Each copy is a plain receipt row
   * under the member's next seq. It takes no roomSeq of its own; the answer names the roomSeq whose
   * members it reached.
   */
  private AppendResult planRoomReceipt(AppendRequest request, List<String> to, long roomSeq,
                                       Map<String, InboxHead> heads, Map<String, InboxHead> updated, List<StoredMessage> rows) {
    List<RecipientResult> perMember = copies(request, to, null, 0, heads, updated, rows);
    return new AppendResult(false, perMember, request.room(), roomSeq);
  }

  /**
   * One copy of a room request per member in {@code to} under the member's next seq, each row
   * carrying {@code room} and {@code roomSeq} (none for a receipt); a member of another shard or
   * with a full inbox is refused.
   */
  private List<RecipientResult> copies(AppendRequest request, Collection<String> to, String room, long roomSeq,
                                       Map<String, InboxHead> heads, Map<String, InboxHead> updated,
                                       List<StoredMessage> rows) {
    String msgId = request.roomMsgId();
    List<RecipientResult> perMember = new ArrayList<>(to.size());
    for (String member : to) {
      if (!owns.test(member)) {
        perMember.add(RecipientResult.refused(member, NOT_HERE));
        continue;
      }
      InboxHead head = updated.getOrDefault(member, heads.getOrDefault(member, InboxHead.EMPTY));
      if (head.stored() >= maxMessagesPerUser) {
        perMember.add(RecipientResult.refused(member, ErrorCode.INBOX_FULL));
        continue;
      }
      long seq = head.lastSeq() + 1;
      updated.put(member, new InboxHead(seq, head.stored() + 1));
      rows.add(new StoredMessage(msgId, seq, request.from(), member, request.body(), request.ts(), room, roomSeq, null));
      perMember.add(RecipientResult.stored(member, msgId, seq, request.ts()));
    }
    return perMember;
  }

  private static AppendResult refuseAll(AppendRequest request, ErrorCode code) {
    List<RecipientResult> refused = new ArrayList<>(request.recipients().size());
    request.recipients().forEach(r -> refused.add(RecipientResult.refused(r.to(), code)));
    return new AppendResult(false, refused, request.room(), 0);
  }

  /**
   * Identifies what was sent, so a reused key is told apart from a retry: SHA-256 over the sender,
   * the recipients as a sorted set (a retry may list them in another order) and the body, each
   * length-prefixed so that no two different sends hash the same bytes. Hex, so every engine
   * stores it as text.
   */
  static String fingerprint(AppendRequest request) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
    update(sha256, request.from());
    if (request.isRoom()) {
      // A count no recipient set has, so a room's fingerprint never equals a direct send's.
      sha256.update(ByteBuffer.allocate(4).putInt(-1).flip());
      update(sha256, request.room());
      update(sha256, request.body());
      return HexFormat.of().formatHex(sha256.digest());
    }
    SortedSet<String> recipients = new TreeSet<>();
    request.recipients().forEach(r -> recipients.add(r.to()));
    sha256.update(ByteBuffer.allocate(4).putInt(recipients.size()).flip());
    recipients.forEach(to -> update(sha256, to));
    update(sha256, request.body());
    return HexFormat.of().formatHex(sha256.digest());
  }

  /**
   * Whether a stored fingerprint is that of {@code request}. Keys stored by builds before SHA-256
   * (16 hex digits at most) are compared the old way, so that retries right after an upgrade are
   * still answered as duplicates; they leave with the window.
   */
  private static boolean sameSend(String stored, String fingerprint, AppendRequest request) {
    return stored.length() == 64 ? stored.equals(fingerprint) : stored.equals(legacyFingerprint(request));
  }

  /** The fingerprint of builds before SHA-256 (String hash codes; order of recipients mattered). */
  static String legacyFingerprint(AppendRequest request) {
    long hash = request.body().hashCode() * 31L + request.body().length();
    for (AppendRequest.Recipient r : request.recipients()) {
      hash = hash * 1_000_003L + r.to().hashCode();
    }
    return Long.toHexString(hash);
  }

  private static void update(MessageDigest digest, String field) {
    byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
    digest.update(ByteBuffer.allocate(4).putInt(bytes.length).flip());
    digest.update(bytes);
  }
}
