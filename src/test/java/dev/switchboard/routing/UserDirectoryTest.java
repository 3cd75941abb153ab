package dev.switchboard.routing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The single-node directory: counts follow joins and leaves, whatever entries were read before. */
@ExtendWith(VertxExtension.class)
class UserDirectoryTest {

  @Test
  @DisplayName("a Vert.x that is not clustered gets the local directory, naming its node 'local'")
  void notClusteredIsLocal(Vertx vertx) {
    UserDirectory directory = UserDirectory.create(vertx);
    assertInstanceOf(LocalUserDirectory.class, directory);
    assertEquals("local", directory.localNode());
  }

  @Test
  @DisplayName("counts per user follow joins and leaves; users with equal entries get equal, unmodifiable counts")
  void countsFollowJoinsAndLeaves(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      UserDirectory directory = new LocalUserDirectory(vertx);
      String node = directory.localNode();
      Future.all(directory.join("ann", 5), directory.join("bob", 5), directory.join("bob", 5), directory.join("cy", 5))
          .compose(joined -> directory.sessionsByNode(List.of("ann", "bob", "cy", "dan")))
          .compose(found -> {
            test.verify(() -> {
              assertEquals(Map.of("ann", Map.of(node, 1), "bob", Map.of(node, 2), "cy", Map.of(node, 1)), found);
              assertThrows(UnsupportedOperationException.class, () -> found.get("ann").put(node, 5));
            });
            // ann's entry was read (and kept parsed) as 1 session; after these it must read 2, then 0
            return Future.all(directory.join("ann", 5), directory.leave("bob"), directory.leave("cy"));
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

  @Test
  @DisplayName("joins beyond the limit are refused and not counted, by whichever directory of the node they come; "
      + "a leave makes room for one more")
  void limitHoldsAcrossDirectoriesOfANode(Vertx vertx, VertxTestContext test) {
    UserDirectory first = new LocalUserDirectory(vertx);
    UserDirectory second = new LocalUserDirectory(vertx);
    List<Future<Boolean>> joins = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      joins.add((i % 2 == 0 ? first : second).join("ivy", 5));
    }
    Future.all(joins)
        .compose(all -> {
          test.verify(() -> assertEquals(5, joins.stream().filter(Future::result).count()));
          return second.sessionsByNode("ivy");
        })
        .compose(ivy -> {
          test.verify(() -> assertEquals(Map.of("local", 5), ivy));
          return first.leave("ivy").compose(v -> second.join("ivy", 5));
        })
        .compose(joined -> {
          test.verify(() -> assertTrue(joined));
          return first.join("ivy", 5);
        })
        .onComplete(test.succeeding(joined -> test.verify(() -> {
          assertEquals(false, joined);
          test.completeNow();
        })));
  }
}
