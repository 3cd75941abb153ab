package dev.switchboard.storage;

import dev.switchboard.bus.AppendRequest;
import dev.switchboard.bus.AppendResult;
import dev.switchboard.config.InboxConfig;
import dev.switchboard.support.TestPostgres;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The store contract on PostgreSQL, plus what only a shared store must do: several writers. */
class PgInboxStoreTest extends InboxStoreContract {

  @Override
  JsonObject engine() throws Exception {
    return new JsonObject().put("engine", "postgres").put("postgresUri", TestPostgres.start().uri());
  }

  @Override
  InboxStore create(Vertx vertx, InboxConfig config) {
    return new PgInboxStore(vertx, config);
  }

  @Test
  @DisplayName("two nodes appending to the same inboxes at once give each inbox seqs 1..N, each once, no holes")
  void concurrentWritersKeepSeqsGapless(Vertx vertx, VertxTestContext ctx) throws Exception {
    InboxConfig config = config(100_000);
    InboxStore nodeA = create(vertx, config);
    InboxStore nodeB = create(vertx, config);
    List<String> users = List.of("u1", "u2", "u3");
    int perNode = 300;
    Future.all(nodeA.open(), nodeB.open())
        .compose(v -> Future.all(appendMany(nodeA, "a", users, perNode), appendMany(nodeB, "b", users, perNode)))
        .compose(v -> Future.all(users.stream().map(u -> nodeA.read(u, 0, 10_000, 0)).toList()))
        .onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
          for (int i = 0; i < users.size(); i++) {
            dev.switchboard.bus.InboxPage page = pages.resultAt(i);
            assertEquals(2L * perNode, page.head());
            assertEquals(2 * perNode, page.messages().size());
            Map<String, Integer> perSender = new HashMap<>();
            for (int s = 0; s < page.messages().size(); s++) {
              assertEquals(s + 1L, page.messages().get(s).seq());
              perSender.merge(page.messages().get(s).from(), 1, Integer::sum);
            }
            assertEquals(Map.of("a", perNode, "b", perNode), perSender);
          }
          nodeA.close();
          nodeB.close();
          ctx.completeNow();
        })));
  }

  /** Appends in batches of 10 one after another, as one node's inbox verticle would. */
  private static Future<Void> appendMany(InboxStore store, String sender, List<String> users, int n) {
    Future<Void> chain = Future.succeededFuture();
    for (int start = 0; start < n; start += 10) {
      int from = start;
      chain = chain.compose(v -> {
        List<AppendRequest> batch = new ArrayList<>();
        for (int i = from; i < from + 10; i++) {
          List<AppendRequest.Recipient> to = new ArrayList<>();
          for (String u : users) {
            to.add(new AppendRequest.Recipient(u, sender + "-" + u + "-" + i));
          }
          batch.add(new AppendRequest(sender, "m" + i, 0, null, to));
        }
        return store.append(batch, List.of(), 0).map((List<AppendResult> r) -> null);
      });
    }
    return chain;
  }
}
