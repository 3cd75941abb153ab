package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.bus.CursorUpdate;
import dev.switchboard.bus.InboxPage;
import dev.switchboard.bus.RecipientResult;
import dev.switchboard.bus.StoredMessage;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The log engine against a plain in-memory model of an inbox store, driven by a seeded random run
 * of appends (some retried with their idempotency key), reads, acks, purges, clock steps and
 * restarts, with segments small enough to roll and expire often. Every answer must be the model's.
 * A failing seed replays exactly.
 */
class LogModelTest extends LogTestSupport {

  private static final String[] USERS = {"bob", "carol", "dave", "erin", "frank", "grace"};
  private static final String[] DEVICES = {"phone", "laptop"};
  private static final String[] CHARS = {"a", "b", "z", " ", "é", "€", "😀", "\n"};

  /** The store as it should behave: every inbox's messages and head, cursors, keys of the window. */
  private static final class Model {
    final Map<String, List<StoredMessage>> inboxes = new HashMap<>();
    final Map<String, Long> cursors = new HashMap<>();

    long head(String user) {
      List<StoredMessage> inbox = inboxes.get(user);
      return inbox == null || inbox.isEmpty() ? 0 : inbox.get(inbox.size() - 1).seq();
    }

    AppendResult append(AppendRequest request) {
      List<RecipientResult> results = new ArrayList<>();
      for (AppendRequest.Recipient r : request.recipients()) {
        long seq = head(r.to()) + 1;
        inboxes.computeIfAbsent(r.to(), u -> new ArrayList<>())
            .add(new StoredMessage(r.msgId(), seq, request.from(), r.to(), request.body(), request.ts()));
        results.add(RecipientResult.stored(r.to(), r.msgId(), seq, request.ts()));
      }
      return new AppendResult(false, results);
    }

    InboxPage read(String user, long after, int limit, long notBefore) {
      List<StoredMessage> page = new ArrayList<>();
      for (StoredMessage m : inboxes.getOrDefault(user, List.of())) {
        if (page.size() < limit && m.seq() > after && m.ts() >= notBefore) {
          page.add(m);
        }
      }
      return new InboxPage(after, head(user), page);
    }
  }

  /** A keyed request sent, its answer and when it was committed, for retries within the window. */
  private record Sent(AppendRequest request, AppendResult result, long at) {
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3})
  @DisplayName("a random run of appends, retries, reads, acks, purges, clock steps and restarts answers as the model does")
  void matchesModel(long seed) throws Exception {
    Random random = new Random(seed);
    Path dir = dataDir.resolve("seed" + seed);
    Model model = new Model();
    List<Sent> keyed = new ArrayList<>();
    long now = 1_000;
    int ids = 0;
    // Real syncs would only cost time: the run never loses power.
    FaultyLogFiles files = new FaultyLogFiles().withoutRealSyncs();
    LogInboxStore current = open(config(dir, 2048, false), files);
    try {
      for (int op = 0; op < 1500; op++) {
        LogInboxStore store = current;
        String where = "seed " + seed + ", op " + op;
        int pick = random.nextInt(100);
        if (pick < 40) {
          AppendRequest request = request(random, now, ids++);
          AppendResult expected = model.append(request);
          List<AppendResult> results = await(() -> store.append(List.of(request), List.of(), request.ts()));
          assertEquals(List.of(expected), results, where + ": append");
          if (request.idempotencyKey() != null) {
            keyed.add(new Sent(request, expected, now));
          }
        } else if (pick < 45 && !keyed.isEmpty()) {
          Sent sent = keyed.get(random.nextInt(keyed.size()));
          if (now - sent.at() <= 30_000) {
            AppendRequest retry = new AppendRequest(sent.request().from(), sent.request().body(), now,
                sent.request().idempotencyKey(), sent.request().recipients());
            long at = now;
            List<AppendResult> results = await(() -> store.append(List.of(retry), List.of(), at));
            assertEquals(List.of(new AppendResult(true, sent.result().results())), results, where + ": retry");
          }
        } else if (pick < 65) {
          String user = USERS[random.nextInt(USERS.length)];
          long after = random.nextInt((int) model.head(user) + 3);
          int limit = 1 + random.nextInt(20);
          long at = now;
          InboxPage page = await(() -> store.read(user, after, limit, at));
          assertEquals(model.read(user, after, limit, now - HOUR), page, where + ": read");
        } else if (pick < 75) {
          String user = USERS[random.nextInt(USERS.length)];
          String device = DEVICES[random.nextInt(DEVICES.length)];
          long seq = random.nextInt((int) model.head(user) + 1);
          long at = now;
          await(() -> store.append(List.of(), List.of(new CursorUpdate(user, device, seq)), at));
          model.cursors.merge(user + "/" + device, seq, Math::max);
        } else if (pick < 80) {
          String user = USERS[random.nextInt(USERS.length)];
          String device = DEVICES[random.nextInt(DEVICES.length)];
          assertEquals(model.cursors.getOrDefault(user + "/" + device, 0L), await(() -> store.cursor(user, device)),
              where + ": cursor");
        } else if (pick < 86) {
          long at = now;
          await(() -> store.purge(at));
        } else if (pick < 96) {
          now += random.nextInt(15 * 60_000);
        } else {
          await(store::close);
          current = open(config(dir, 2048, false), files);
        }
      }
    } finally {
      LogInboxStore last = current;
      await(last::close);
    }
  }

  private static AppendRequest request(Random random, long now, int id) {
    Set<String> to = new LinkedHashSet<>();
    int n = 1 + random.nextInt(3);
    while (to.size() < n) {
      to.add(USERS[random.nextInt(USERS.length)]);
    }
    List<AppendRequest.Recipient> recipients = new ArrayList<>();
    for (String user : to) {
      recipients.add(new AppendRequest.Recipient(user, "m" + id + "-" + user));
    }
    StringBuilder body = new StringBuilder();
    int length = random.nextInt(10) == 0 ? 300 + random.nextInt(1500) : random.nextInt(60);
    for (int i = 0; i < length; i++) {
      body.append(CHARS[random.nextInt(CHARS.length)]);
    }
    String key = random.nextInt(3) == 0 ? "key" + id : null;
    return new AppendRequest(random.nextBoolean() ? "alice" : "zoe", body.toString(), now, key, recipients);
  }
}
