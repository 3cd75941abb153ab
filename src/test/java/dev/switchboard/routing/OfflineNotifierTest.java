package dev.switchboard.routing;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorRead;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.Notification;
import dev.switchboard.bus.SendCommand;
import dev.switchboard.bus.Senders;
import dev.switchboard.bus.SystemInboxes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class OfflineNotifierTest {

  private final AtomicInteger ids = new AtomicInteger();

  /** The mute settings each lookup asked for, one list per lookup. */
  private final List<List<CursorRead.Device>> lookups = new ArrayList<>();

  private OfflineNotifier notifier(int maxQueued, Map<String, Long> muteCounters) {
    return new OfflineNotifier(maxQueued, () -> "n-" + ids.getAndIncrement(), devices -> {
      lookups.add(devices);
      List<Long> counters = new ArrayList<>();
      devices.forEach(d -> counters.add(muteCounters.getOrDefault(d.user() + "/" + d.device(), 0L)));
      return Future.succeededFuture(counters);
    });
  }

  private static Notification notification(AppendRequest append) {
    return Notification.fromJson(new JsonObject(append.body()));
  }

  @Test
  @DisplayName("offline recipients of sends and pushes are notified; online ones, receipts and muted senders are not")
  void whoIsNotified() {
    OfflineNotifier notifier = notifier(100, Map.of(
        SystemInboxes.mutes("dave") + "/alice", 1L,   // dave muted alice
        SystemInboxes.mutes("erin") + "/|all", 3L,    // erin muted everyone
        SystemInboxes.mutes("frank") + "/alice", 2L)); // frank muted alice, then unmuted her
    List<SendCommand> commands = List.of(
        new SendCommand("alice", List.of("bob", "carol", "dave", "erin", "frank"), "hi", "c-1"),
        new SendCommand(Senders.push("shop"), List.of("carol"), "shipped", null),
        new SendCommand(Senders.receipt("alice"), List.of("carol"), "m-1", "m-1"),
        new SendCommand(Senders.delivered("alice"), List.of("carol"), "m-2", "m-2"),
        new SendCommand(Senders.receipt("alice", "team"), List.of("carol"), "m-3", "m-3"),
        new SendCommand(Senders.delivered("alice", "team"), List.of("carol"), "m-4.r", "m-4.r"));
    OfflineNotifier.Planned planned = notifier.plan(commands, Map.of("bob", Map.of("node-1", 1)), 42).result();
    assertEquals(2, planned.muted());
    assertEquals(0, planned.queueFull());
    List<AppendRequest> appends = planned.appends();
    assertEquals(List.of(new Notification("carol", "alice", false, "hi"), new Notification("frank", "alice", false, "hi"),
        new Notification("carol", "shop", true, "shipped")), appends.stream().map(OfflineNotifierTest::notification).toList());
    assertEquals(SystemInboxes.WEBHOOK, appends.get(0).recipients().get(0).to());
    assertEquals("c-1|carol", appends.get(0).idempotencyKey());
    assertNull(appends.get(2).idempotencyKey());
    assertEquals(42, appends.get(0).ts());
  }

  @Test
  @DisplayName("no more than webhook.maxQueued wait: the dispatcher's report plus this router's writes since")
  void queueBound() {
    OfflineNotifier notifier = notifier(3, Map.of());
    notifier.reported(1);
    OfflineNotifier.Planned first = notifier.plan(
        List.of(new SendCommand("alice", List.of("b", "c", "d"), "x", null)), Map.of(), 0).result();
    assertEquals(2, first.appends().size());
    assertEquals(1, first.queueFull());
    notifier.written(2);
    assertEquals(3, notifier.queued());
    assertEquals(1, notifier.plan(List.of(new SendCommand("alice", List.of("e"), "x", null)), Map.of(), 0)
        .result().queueFull());
    notifier.reported(0);
    assertEquals(1, notifier.plan(List.of(new SendCommand("alice", List.of("e"), "x", null)), Map.of(), 0)
        .result().appends().size());
  }
  @Test
  @DisplayName("a stored room message notifies its offline members but the sender; a member who muted the room or the sender is skipped; a replay notifies nobody")
  void roomMembers() {
    OfflineNotifier notifier = notifier(100, Map.of(
        SystemInboxes.mutes("dave") + "/" + SystemInboxes.roomMute("team"), 1L, // dave muted the room
        SystemInboxes.mutes("erin") + "/alice", 1L));                         // erin muted alice
    SendCommand send = SendCommand.toRoom("alice", "team", "hi all", "r-1");
    AppendResult stored = new AppendResult(false, List.of(RecipientResult.stored("alice", "m", 5, 1),
        RecipientResult.stored("bob", "m", 2, 1), RecipientResult.stored("carol", "m", 7, 1),
        RecipientResult.stored("dave", "m", 3, 1), RecipientResult.stored("erin", "m", 4, 1)), "team", 9);
    OfflineNotifier.Planned planned = notifier.planRooms(List.of(send), List.of(stored),
        Map.of("bob", Map.of("node-1", 1)), 42).result();
    assertEquals(2, planned.muted());
    assertEquals(List.of(new Notification("carol", "alice", false, "hi all", "team")),
        planned.appends().stream().map(OfflineNotifierTest::notification).toList());
    AppendResult replay = new AppendResult(true, List.of(RecipientResult.stored("team", "m", 0, 1)), "team", 9);
    assertEquals(0, notifier.planRooms(List.of(send), List.of(replay), Map.of(), 42).result().appends().size());
    // A direct send's plan never notifies room members: they are in no command's to.
    assertEquals(0, notifier.plan(List.of(send), Map.of(), 42).result().appends().size());
  }

  @Test
  @DisplayName("a batch's mute settings are read in one lookup, each setting once, and none for a batch with nobody offline")
  void oneLookupPerBatch() {
    OfflineNotifier notifier = notifier(100, Map.of(SystemInboxes.mutes("carol") + "/alice", 1L));
    List<SendCommand> commands = List.of(
        new SendCommand("alice", List.of("bob", "carol"), "one", null),
        new SendCommand("alice", List.of("bob", "carol"), "two", null),
        new SendCommand("alice", List.of("bob", "dave"), "three", null));
    OfflineNotifier.Planned planned = notifier.plan(commands, Map.of("dave", Map.of("node-1", 1)), 0).result();
    assertEquals(2, planned.muted());
    assertEquals(3, planned.appends().size());
    String bob = SystemInboxes.mutes("bob");
    String carol = SystemInboxes.mutes("carol");
    assertEquals(List.of(List.of(new CursorRead.Device(bob, SystemInboxes.MUTE_ALL), new CursorRead.Device(bob, "alice"),
        new CursorRead.Device(carol, SystemInboxes.MUTE_ALL), new CursorRead.Device(carol, "alice"))), lookups);
    notifier.plan(commands, Map.of("bob", Map.of("node-1", 1), "carol", Map.of("node-1", 1), "dave", Map.of("node-1", 1)), 0);
    assertEquals(1, lookups.size());
  }

  @Test
  @DisplayName("a mute setting the store could not read, or a lookup that failed, counts as not muted")
  void unreadableMutesDoNotMute() {
    OfflineNotifier unknown = new OfflineNotifier(100, () -> "n", devices ->
        Future.succeededFuture(Arrays.asList(new Long[devices.size()])));
    assertEquals(1, unknown.plan(List.of(new SendCommand("alice", List.of("bob"), "x", null)), Map.of(), 0)
        .result().appends().size());
    OfflineNotifier failing = new OfflineNotifier(100, () -> "n", devices -> Future.failedFuture("inbox timed out"));
    OfflineNotifier.Planned planned = failing.plan(List.of(new SendCommand("alice", List.of("bob", "carol"), "x", null)),
        Map.of(), 0).result();
    assertEquals(2, planned.appends().size());
    assertEquals(0, planned.muted());
  }
}
