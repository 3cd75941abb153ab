package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.StoredMessage;
import dev.switchboard.config.InboxConfig;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log engine keeps per-message entries in the heap only for the tail of the log (segments
 * without an index file); older messages are found through the index files, and read back the same.
 */
class LogHeapBoundTest extends LogTestSupport {

  private static final long T = 10_000;

  /** Every message given to the store, by user, in seq order. */
  private final Map<String, List<StoredMessage>> written = new HashMap<>();

  private void send(LogInboxStore store, Random random, String[] users, int id) throws Exception {
    Set<String> to = new LinkedHashSet<>();
    int n = 1 + random.nextInt(3);
    while (to.size() < n) {
      to.add(users[random.nextInt(users.length)]);
    }
    send(store, random, to, id);
  }

  private void send(LogInboxStore store, Random random, Set<String> to, int id) throws Exception {
    List<AppendRequest.Recipient> recipients = new ArrayList<>();
    for (String user : to) {
      recipients.add(new AppendRequest.Recipient(user, "m" + id + "-" + user));
    }
    AppendRequest request = new AppendRequest("alice", "body " + id + "x".repeat(random.nextInt(120)), T + id,
        null, recipients);
    long now = T + id;
    AppendResult result = await(() -> store.append(List.of(request), List.of(), now)).get(0);
    for (RecipientResult r : result.results()) {
      written.computeIfAbsent(r.to(), u -> new ArrayList<>())
          .add(new StoredMessage(r.msgId(), r.seq(), "alice", r.to(), request.body(), request.ts()));
    }
  }

  /** Message entries in the records of one segment file. */
  private static int messagesIn(Path segment) throws Exception {
    return messagesIn(segment, null);
  }

  /** Message entries in the records of one segment file, to {@code user} only unless it is null. */
  private static int messagesIn(Path segment, String user) throws Exception {
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(segment));
    int[] count = {0};
    int at = LogSegments.FILE_HEADER;
    while (at < bytes.limit()) {
      int length = bytes.getInt(at);
      LogEntries.replay(bytes.slice(at + LogSegments.RECORD_HEADER, length), new LogEntries.Visitor() {
        @Override
        public void message(String recipient, long seq, long ts, int offset) {
          if (user == null || user.equals(recipient)) {
            count[0]++;
          }
        }

        @Override
        public void sendKey(String sender, String key, long createdAt, int offset) {
        }

        @Override
        public void cursor(String user, String device, long seq) {
        }

        @Override
        public void head(String user, long lastSeq) {
        }
      });
      at += LogSegments.RECORD_HEADER + length;
    }
    return count[0];
  }

  @Test
  @DisplayName("after many rolls with their indexes written, the heap holds entries only for the active segment's messages, before and after a restart")
  void heapHoldsOnlyTheTail() throws Exception {
    String[] users = {"bob", "carol", "dave", "erin"};
    InboxConfig config = config(600);
    LogInboxStore store = open(config);
    Random random = new Random(7);
    for (int i = 0; i < 300; i++) {
      send(store, random, users, i);
    }
    await(store::indexesWritten);
    List<Path> segments = segments();
    long total = written.values().stream().mapToLong(List::size).sum();
    assertTrue(segments.size() >= 20, "many rolls: " + segments.size());
    assertEquals(messagesIn(segments.get(segments.size() - 1)), store.tailEntries(),
        "entries in the heap are those of the active segment");
    assertTrue(store.tailEntries() * 10 < total, store.tailEntries() + " of " + total + " messages in the heap");
    for (String user : users) {
      assertEquals(written.get(user), readAll(store, user, T + 1000), user);
    }
    await(store::close);

    LogInboxStore reopened = open(config);
    try {
      assertEquals(segments().size() - 1, reopened.openedByIndex());
      assertEquals(messagesIn(segments().get(segments().size() - 1)), reopened.tailEntries(),
          "a start keeps entries for the newest segment only");
      for (String user : users) {
        assertEquals(written.get(user), readAll(reopened, user, T + 1000), user);
      }
    } finally {
      await(reopened::close);
    }
  }

  /** Reads at random cursors and limits, each checked against what was written. */
  private void randomReads(LogInboxStore store, Random random, String[] users, String when) throws Exception {
    for (int r = 0; r < 400; r++) {
      String user = users[random.nextInt(users.length)];
      List<StoredMessage> all = written.getOrDefault(user, List.of());
      long head = all.isEmpty() ? 0 : all.get(all.size() - 1).seq();
      long after = random.nextInt((int) head + 3);
      int limit = 1 + random.nextInt(40);
      List<StoredMessage> expected = all.stream().filter(m -> m.seq() > after).limit(limit).toList();
      InboxPage page = await(() -> store.read(user, after, limit, T + 5_000));
      assertEquals(new InboxPage(after, head, expected), page, when + ": read " + user + " after " + after + " limit " + limit);
    }
  }

  @Test
  @DisplayName("many users over many sealed segments: reads at random cursors return every message in order, as a plain model does")
  void readsAcrossSealedSegments() throws Exception {
    String[] users = new String[25];
    for (int i = 0; i < users.length; i++) {
      users[i] = "user" + i;
    }
    InboxConfig config = config(2048);
    LogInboxStore store = open(config);
    Random random = new Random(11);
    try {
      for (int i = 0; i < 600; i++) {
        send(store, random, users, i);
      }
      await(store::indexesWritten);
      assertTrue(segments().size() >= 30, "many segments: " + segments().size());
      randomReads(store, random, users, "before a restart");
    } finally {
      await(store::close);
    }
    LogInboxStore reopened = open(config);
    try {
      randomReads(reopened, random, users, "after a restart");
    } finally {
      await(reopened::close);
    }
  }

  @Test
  @DisplayName("a read searches O(log segments) sealed segments' indexes: the first holding the user's messages past"
      + " the cursor is found by bisection, and segments before or after the user's messages are not searched")
  void readsSearchFewSegments() throws Exception {
    InboxConfig config = config(2048);
    LogInboxStore store = open(config);
    Random random = new Random(3);
    String[] others = {"carol", "dave", "erin"};
    int sends = 700;
    try {
      for (int i = 0; i < sends; i++) {
        Set<String> to = new LinkedHashSet<>(List.of("bob", others[random.nextInt(others.length)]));
        if (i % 40 == 0) {
          to.add("sparse");
        }
        if (i >= sends - 40 && i < sends - 20) {
          to.add("late");
        }
        send(store, random, to, i);
      }
      await(store::indexesWritten);
      List<Path> segments = segments();
      List<Path> sealed = segments.subList(0, segments.size() - 1);
      assertTrue(sealed.size() >= 30, "many sealed segments: " + sealed.size());
      long bound = 2 + (long) Math.ceil(Math.log(sealed.size()) / Math.log(2));
      List<StoredMessage> bob = written.get("bob");
      int bobSealed = bob.size() - messagesIn(segments.get(segments.size() - 1), "bob");
      for (int r = 0; r < 100; r++) {
        long after = random.nextInt(bobSealed);
        long before = store.indexSearches();
        InboxPage page = await(() -> store.read("bob", after, 1, T + 5_000));
        long searches = store.indexSearches() - before;
        assertEquals(bob.subList((int) after, (int) after + 1), page.messages(), "bob after " + after);
        assertTrue(searches <= bound, "bob after " + after + ": " + searches + " index searches for one message, "
            + sealed.size() + " sealed segments, at most " + bound + " expected");
      }
      int lateSegments = 0;
      for (Path segment : sealed) {
        lateSegments += messagesIn(segment, "late") > 0 ? 1 : 0;
      }
      long before = store.indexSearches();
      assertEquals(written.get("late"), readAll(store, "late", T + 5_000));
      long searches = store.indexSearches() - before;
      assertTrue(searches <= lateSegments + bound, "late's messages are in " + lateSegments + " of " + sealed.size()
          + " sealed segments; reading them all took " + searches + " index searches");
      for (String user : List.of("bob", "sparse", "late", "carol")) {
        List<StoredMessage> all = written.get(user);
        for (int after = 0; after <= all.size(); after += 1 + random.nextInt(7)) {
          long from = after;
          assertEquals(all.subList(after, Math.min(all.size(), after + 3)),
              await(() -> store.read(user, from, 3, T + 5_000)).messages(), user + " after " + after);
        }
      }
    } finally {
      await(store::close);
    }
  }

  @Test
  @DisplayName("messages in indexed sealed segments count against the cap until their segment expires, then free their place; seqs keep rising")
  void capWithSealedSegments() throws Exception {
    InboxConfig base = config(400);
    InboxConfig capped = new InboxConfig(base.engine(), base.dataDir(), base.retentionMillis(), 6,
        base.idempotencyWindowMillis(), base.purgeIntervalMillis(), base.batchMaxMessages(), base.commitIntervalMillis(),
        base.cursorFlushMillis(), base.synchronous(), base.logSegmentBytes(), base.logRepair(), base.postgresUris(),
        base.postgresPoolSize(), base.postgresPartitionMillis(), base.postgresShardTimeoutMillis(), base.postgresCommitsInFlight(),
        base.postgresCommitIntervalMillis(), base.allowEmbeddedInCluster(), base.stopTimeoutMillis(), base.indexCacheMegabytes(), base.verifyInBackground(),
        base.maxRoomMembers(), base.maxRoomsPerUser(), base.roomEventMembers(),
        base.roomReceiptMembers());
    LogInboxStore store = open(capped);
    try {
      for (int i = 1; i <= 6; i++) {
        assertEquals(i, append(store, "bob", "old " + i + "x".repeat(200), T));
      }
      await(store::indexesWritten);
      assertTrue(store.tailEntries() < 6, "most of bob's messages are in sealed segments");
      AppendRequest refused = send("bob", "refused", T + 1);
      assertFalse(await(() -> store.append(List.of(refused), List.of(), T + 1)).get(0).results().get(0).isStored(),
          "six stored messages fill the cap");
      long later = T + HOUR + 1;
      long removed = await(() -> store.purge(later));
      assertEquals(6L, removed, "every message past retention leaves the count, sealed or in the tail");
      assertEquals(7L, append(store, "bob", "fresh", later));
      InboxPage page = await(() -> store.read("bob", 0, 10, later));
      assertEquals(7L, page.head());
      assertEquals(List.of("fresh"), bodies(page.messages()));
    } finally {
      await(store::close);
    }
  }
}
