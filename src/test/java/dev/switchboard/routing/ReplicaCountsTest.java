package dev.switchboard.routing;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the counts another node sends: whole, or refused naming what is wrong. */
class ReplicaCountsTest {

  @Test
  @DisplayName("a well-formed snapshot reads to its counts, in order")
  void readsCounts() {
    JsonObject reply = JsonObject.of("node", "b", "sessions", JsonArray.of(JsonArray.of("ann", 2, 7L),
        JsonArray.of("bob", 0, 8L)));
    assertEquals(List.of(new ReplicaCounts.Count("ann", 2, 7), new ReplicaCounts.Count("bob", 0, 8)),
        ReplicaCounts.counts(ReplicaCounts.object(reply), "sessions"));
    assertEquals("b", ReplicaCounts.node(reply));
  }

  @Test
  @DisplayName("a snapshot of another shape is refused with the field it gets wrong")
  void refusesOtherShapes() {
    refused(ErrorCode.BAD_JSON, "JSON object", () -> ReplicaCounts.object(new JsonArray()));
    refused(ErrorCode.MISSING_FIELD, "sessions", () -> ReplicaCounts.counts(JsonObject.of("node", "b"), "sessions"));
    refused(ErrorCode.INVALID_FIELD, "sessions[0]", () -> ReplicaCounts.counts(
        JsonObject.of("sessions", JsonArray.of("ann")), "sessions"));
    refused(ErrorCode.INVALID_FIELD, "sessions[1]: the count", () -> ReplicaCounts.counts(
        JsonObject.of("sessions", JsonArray.of(JsonArray.of("ann", 1, 1L), JsonArray.of("bob", 1.5, 1L))), "sessions"));
    refused(ErrorCode.INVALID_FIELD, "the user", () -> ReplicaCounts.counts(
        JsonObject.of("sessions", JsonArray.of(JsonArray.of(3, 1, 1L))), "sessions"));
    refused(ErrorCode.INVALID_FIELD, "node", () -> ReplicaCounts.node(JsonObject.of("node", 4)));
  }

  private static void refused(ErrorCode code, String named, Runnable read) {
    ProtocolException refused = assertThrows(ProtocolException.class, read::run);
    assertEquals(code, refused.code());
    assertTrue(refused.getMessage().contains(named), refused.getMessage());
  }
}
