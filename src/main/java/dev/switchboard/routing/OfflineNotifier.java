package dev.switchboard.routing;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorRead;
import dev.switchboard.bus.Notification;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.SystemInboxes;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
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

  /** An offline recipient of a command, to be notified unless a mute setting says otherwise. */
  private record Candidate(SendCommand command, String to, String sender) {
  }

  private final int maxQueued;
  private final Supplier<String> msgIds;
  /**
   * The mute counters of (mutes inbox, device) pairs, in their order: cursors, read through the
   * inbox in one request; null where one could not be read.
   */
  private final Function<List<CursorRead.Device>, Future<List<Long>>> muteCounters;
  /** The queue length the dispatcher last reported, and what this router wrote since. */
  private long reportedQueued;
  private long writtenSinceReport;

  OfflineNotifier(int maxQueued, Supplier<String> msgIds,
                  Function<List<CursorRead.Device>, Future<List<Long>>> muteCounters) {
    this.maxQueued = maxQueued;
    this.msgIds = msgIds;
    this.muteCounters = muteCounters;
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
    List<Candidate> candidates = new ArrayList<>();
    for (SendCommand command : commands) {
      if (!notifies(command)) {
        continue;
      }
      for (String to : command.to()) {
        if (online.getOrDefault(to, Map.of()).isEmpty()) {
          candidates.add(new Candidate(command, to, Senders.shown(command.from())));
        }
      }
    }
    return decide(candidates, now);
  }

  /**
   * The notification appends for the room messages among {@code commands}, once stored
   * ({@code stored}, one per command): a room's members are known only from its commit. Each member
   * with a copy and no session, but the sender, is notified; a replay notifies nobody again.
   */
  Future<Planned> planRooms(List<SendCommand> commands, List<AppendResult> stored,
                            Map<String, Map<String, Integer>> online, long now) {
    List<Candidate> candidates = new ArrayList<>();
    for (int i = 0; i < commands.size(); i++) {
      SendCommand command = commands.get(i);
      AppendResult appended = stored.get(i);
      if (command.room() == null || appended.duplicate() || !notifies(command)) {
        continue;
      }
      for (RecipientResult result : appended.results()) {
        if (result.isStored() && !result.to().equals(command.from()) && online.getOrDefault(result.to(), Map.of()).isEmpty()) {
          candidates.add(new Candidate(command, result.to(), Senders.shown(command.from())));
        }
      }
    }
    return decide(candidates, now);
  }

  /** Receipts are not news to notify about. */
  private static boolean notifies(SendCommand command) {
    return Senders.isUser(command.from()) || Senders.isPush(command.from());
  }

  /**
   * Reads every mute setting the candidates need in one request, each (mutes inbox, setting) once;
   * then counts the muted ones and keeps the others while the queue has room. A mute that cannot be
   * read counts as not muted: a notification too many is better than a message nobody hears of.
   */
  private Future<Planned> decide(List<Candidate> candidates, long now) {
    if (candidates.isEmpty()) {
      return Future.succeededFuture(new Planned(List.of(), 0, 0));
    }
    Map<CursorRead.Device, Integer> settings = new LinkedHashMap<>();
    List<List<CursorRead.Device>> silencers = new ArrayList<>(candidates.size());
    for (Candidate candidate : candidates) {
      List<CursorRead.Device> these = settingsOf(candidate);
      these.forEach(device -> settings.putIfAbsent(device, settings.size()));
      silencers.add(these);
    }
    List<CursorRead.Device> devices = List.copyOf(settings.keySet());
    return muteCounters.apply(devices)
        .otherwise(e -> Collections.<Long>nCopies(devices.size(), null))
        .map(counters -> {
          List<AppendRequest> appends = new ArrayList<>(candidates.size());
          int muted = 0;
          int queueFull = 0;
          for (int i = 0; i < candidates.size(); i++) {
            Candidate candidate = candidates.get(i);
            if (mutedBy(silencers.get(i), settings, counters)) {
              muted++;
            } else if (queued() + appends.size() >= maxQueued) {
              queueFull++;
            } else {
              appends.add(append(candidate.command(), candidate.to(), candidate.sender(), now));
            }
          }
          return new Planned(appends, muted, queueFull);
        });
  }

  /** The settings that silence a notification of {@code candidate}: everything, its sender, and its room if any. */
  private static List<CursorRead.Device> settingsOf(Candidate candidate) {
    String mutes = SystemInboxes.mutes(candidate.to());
    CursorRead.Device all = new CursorRead.Device(mutes, SystemInboxes.MUTE_ALL);
    CursorRead.Device sender = new CursorRead.Device(mutes, candidate.sender());
    String room = candidate.command().room();
    return room == null ? List.of(all, sender)
        : List.of(all, sender, new CursorRead.Device(mutes, SystemInboxes.roomMute(room)));
  }

  /** Whether any of {@code devices} reads as muted; one that could not be read (null) does not. */
  private static boolean mutedBy(List<CursorRead.Device> devices, Map<CursorRead.Device, Integer> at,
                                 List<Long> counters) {
    for (CursorRead.Device device : devices) {
      Long counter = counters.get(at.get(device));
      if (counter != null && SystemInboxes.muted(counter)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Scoped to its own sender mark and keyed by the send's key and the recipient, so a retried send
   * stores no second notification (its bytes are the same: see {@link Notification}).
   */
  private AppendRequest append(SendCommand command, String to, String sender, long now) {
    Notification notification = new Notification(to, sender, Senders.isPush(command.from()), command.body(),
        command.room());
    String key = command.idempotencyKey() == null ? null : command.idempotencyKey() + "|" + to;
    return new AppendRequest("notify|" + command.from(), notification.encode(), now, key,
        List.of(new AppendRequest.Recipient(SystemInboxes.WEBHOOK, msgIds.get())));
  }
}
