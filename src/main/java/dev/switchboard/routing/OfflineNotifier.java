package dev.switchboard.routing;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.Notification;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.SystemInboxes;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * Decides which recipients of a batch of sends get an offline notification, and writes each as an
 * append to {@link SystemInboxes#WEBHOOK}, to be committed in the same transaction as the messages:
 * a recipient with no live session anywhere (as the user directory says at routing time), who has
 * not muted the sender or everything, while the webhook queue holds fewer than
 * {@code webhook.maxQueued}. Receipts never notify. A room message notifies each member it was
 * stored for but its sender, unless the member muted the sender, the room or everything.
 */
final class OfflineNotifier {

  /** What became of the notifications of one batch. */
  record Planned(List<AppendRequest> appends, int muted, int queueFull) {
  }

  private final int maxQueued;
  private final Supplier<String> msgIds;
  /** The mute counter of (mutes inbox, device): a cursor, read through the inbox. */
  private final BiFunction<String, String, Future<Long>> muteCounter;
  /** The queue length the dispatcher last reported, and what this router wrote since. */
  private long reportedQueued;
  private long writtenSinceReport;

  OfflineNotifier(int maxQueued, Supplier<String> msgIds, BiFunction<String, String, Future<Long>> muteCounter) {
    this.maxQueued = maxQueued;
    this.msgIds = msgIds;
    this.muteCounter = muteCounter;
  }

  /** The dispatcher's count of waiting notifications; this router's own writes since are counted on top. */
  void reported(long queued) {
    reportedQueued = queued;
    writtenSinceReport = 0;
  }

  long queued() {
    return reportedQueued + writtenSinceReport;
  }

  /** Notifications that were committed: they count towards the queue until the dispatcher reports again. */
  void written(int count) {
    writtenSinceReport += count;
  }

  /**
   * The notification appends for {@code commands}, given who is online ({@code online} has the
   * users with a session). A mute that cannot be read counts as not muted: a notification too many
   * is better than a message nobody hears of.
   */
  Future<Planned> plan(List<SendCommand> commands, Map<String, Map<String, Integer>> online, long now) {
    List<Future<AppendRequest>> pending = new ArrayList<>();
    for (SendCommand command : commands) {
      if (!notifies(command)) {
        continue;
      }
      for (String to : command.to()) {
        if (online.getOrDefault(to, Map.of()).isEmpty()) {
          pending.add(unlessMuted(command, to, now));
        }
      }
    }
    return decide(pending);
  }

  /**
   * The notification appends for the room messages among {@code commands}, once stored
   * ({@code stored}, one per command): a room's members are known only from its commit. Each member
   * with a copy and no session, but the sender, is notified; a replay notifies nobody again.
   */
  Future<Planned> planRooms(List<SendCommand> commands, List<AppendResult> stored,
                            Map<String, Map<String, Integer>> online, long now) {
    List<Future<AppendRequest>> pending = new ArrayList<>();
    for (int i = 0; i < commands.size(); i++) {
      SendCommand command = commands.get(i);
      AppendResult appended = stored.get(i);
      if (command.room() == null || appended.duplicate() || !notifies(command)) {
        continue;
      }
      for (RecipientResult result : appended.results()) {
        if (result.isStored() && !result.to().equals(command.from()) && online.getOrDefault(result.to(), Map.of()).isEmpty()) {
          pending.add(unlessMuted(command, result.to(), now));
        }
      }
    }
    return decide(pending);
  }

  /** Receipts are not news to notify about. */
  private static boolean notifies(SendCommand command) {
    return Senders.isUser(command.from()) || Senders.isPush(command.from());
  }

  /** Counts the muted ones and keeps the others while the queue has room. */
  private Future<Planned> decide(List<Future<AppendRequest>> pending) {
    if (pending.isEmpty()) {
      return Future.succeededFuture(new Planned(List.of(), 0, 0));
    }
    return Future.join(pending).transform(done -> {
      List<AppendRequest> appends = new ArrayList<>(pending.size());
      int muted = 0;
      int queueFull = 0;
      for (Future<AppendRequest> f : pending) {
        AppendRequest append = f.result();
        if (append == null) {
          muted++;
        } else if (queued() + appends.size() >= maxQueued) {
          queueFull++;
        } else {
          appends.add(append);
        }
      }
      return Future.succeededFuture(new Planned(appends, muted, queueFull));
    });
  }

  /**
   * The notification of {@code to} for {@code command}, or null when {@code to} muted its sender,
   * everything, or (for a room message) the room.
   */
  private Future<AppendRequest> unlessMuted(SendCommand command, String to, long now) {
    String sender = Senders.shown(command.from());
    String mutes = SystemInboxes.mutes(to);
    List<Future<Long>> counters = new ArrayList<>(3);
    counters.add(muteCounter.apply(mutes, SystemInboxes.MUTE_ALL));
    counters.add(muteCounter.apply(mutes, sender));
    if (command.room() != null) {
      counters.add(muteCounter.apply(mutes, SystemInboxes.roomMute(command.room())));
    }
    return Future.all(counters)
        .map(all -> all.<Long>list().stream().anyMatch(SystemInboxes::muted))
        .otherwise(false)
        .map(muted -> muted ? null : append(command, to, sender, now));
  }

  /**
   * Scoped to its own sender mark and keyed by the send's key and the recipient, so a retried send
   * stores no second notification (its bytes are the same: see {@link Notification}).
   */
  private AppendRequest append(SendCommand command, String to, String sender, long now) {
    Notification notification = new Notification(to, sender, Senders.isPush(command.from()), command.body(),
        command.room());
    String key = command.idempotencyKey() == null ? null : command.idempotencyKey() + "|" + to;
    return new AppendRequest("notify|" + command.from(), notification.toJson().encode(), now, key,
        List.of(new AppendRequest.Recipient(SystemInboxes.WEBHOOK, msgIds.get())));
  }
}
