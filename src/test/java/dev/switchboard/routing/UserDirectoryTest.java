package dev.switchboard.routing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The single-node directory: counts follow joins and leaves, whatever entries were read before. */
@ExtendWith(VertxExtension.class)
class UserDirectoryTest {

  @Test
  @DisplayName("counts per user follow joins and leaves; users with equal entries get equal, unmodifiable counts")
  void countsFollowJoinsAndLeaves(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      UserDirectory directory = new UserDirectory(vertx);
      String node = directory.localNode();
      Future.all(directory.join("ann"), directory.join("bob"), directory.join("bob"), directory.join("cy"))
          .compose(joined -> directory.sessionsByNode(List.of("ann", "bob", "cy", "dan")))
          .compose(found -> {
            test.verify(() -> {
              assertEquals(Map.of("ann", Map.of(node, 1), "bob", Map.of(node, 2), "cy", Map.of(node, 1)), found);
              assertThrows(UnsupportedOperationException.class, () -> found.get("ann").put(node, 5));
            });
            // ann's entry was read (and kept parsed) as 1 session; after these it must read 2, then 0
            return Future.all(directory.join("ann"), directory.leave("bob"), directory.leave("cy"));
          })
          .compose(changed -> directory.sessionsByNode(List.of("ann", "bob", "cy")))
          .compose(found -> {
            test.verify(() -> assertEquals(Map.of("ann", Map.of(node, 2), "bob", Map.of(node, 1)), found));
            return Future.all(directory.leave("ann"), directory.leave("ann"));
          })
          .compose(left -> directory.sessionsByNode("ann"))
          .onComplete(test.succeeding(ann -> test.verify(() -> {
            assertTrue(ann.isEmpty(), ann.toString());
            test.completeNow();
          })));
    });
  }
}
