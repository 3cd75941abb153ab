package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.protocol.ErrorCode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides what a batch of appends writes: the seq of each copy (the next one in its inbox, so seqs
 * have no holes), refusals for full inboxes, and replays of requests whose idempotency key was seen.
 * Pure logic: the store loads the inputs and writes the plan in one transaction.
 */
public final class AppendPlanner {

  /** A (sender, key) pair: idempotency keys are scoped by sender. */
  public record SendKey(String sender, String key) {
  }

  /** A new idempotency record to store: the results the key will replay. */
  public record NewSendKey(SendKey key, AppendResult result) {
  }

  /** What to write and what to answer, in the order of the requests. */
  public record Plan(List<AppendResult> results, List<StoredMessage> rows, Map<String, InboxHead> heads,
                     List<NewSendKey> newKeys) {
  }

  private final long maxMessagesPerUser;

  public AppendPlanner(long maxMessagesPerUser) {
    this.maxMessagesPerUser = maxMessagesPerUser;
  }

  /**
   * @param heads        current head of every recipient in the batch (absent means an empty inbox)
   * @param existingKeys results stored for keys seen within the idempotency window
   */
  public Plan plan(List<AppendRequest> batch, Map<String, InboxHead> heads, Map<SendKey, AppendResult> existingKeys) {
    Map<String, InboxHead> updated = new HashMap<>();
    Map<SendKey, AppendResult> seenInBatch = new HashMap<>();
    List<AppendResult> results = new ArrayList<>(batch.size());
    List<StoredMessage> rows = new ArrayList<>();
    List<NewSendKey> newKeys = new ArrayList<>();

    for (AppendRequest request : batch) {
      SendKey key = request.idempotencyKey() == null ? null : new SendKey(request.from(), request.idempotencyKey());
      if (key != null) {
        AppendResult earlier = seenInBatch.getOrDefault(key, existingKeys.get(key));
        if (earlier != null) {
          results.add(new AppendResult(true, earlier.results()));
          continue;
        }
      }
      List<RecipientResult> perRecipient = new ArrayList<>(request.recipients().size());
      for (AppendRequest.Recipient recipient : request.recipients()) {
        InboxHead head = updated.getOrDefault(recipient.to(), heads.getOrDefault(recipient.to(), InboxHead.EMPTY));
        if (head.stored() >= maxMessagesPerUser) {
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
        seenInBatch.put(key, result);
        newKeys.add(new NewSendKey(key, result));
      }
    }
    return new Plan(results, rows, updated, newKeys);
  }
}
