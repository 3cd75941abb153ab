package dev.switchboard.bus;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SendBatchTest {

  @Test
  @DisplayName("a batch of commands reads back from its JSON form (the codec's wire form) unchanged")
  void jsonRoundTrip() {
    SendBatch batch = new SendBatch(List.of(
        new SendCommand("alice", List.of("bob"), "hi \"there\" é", "k-1"),
        new SendCommand("alice", List.of("bob", "carol", "bob"), "", null),
        new SendCommand(null, List.of("dave"), "no sender yet", null)));
    JsonObject json = new JsonObject(batch.toJson().encode());
    assertEquals(batch, SendBatch.fromJson(json));
    assertEquals(List.of("bob", "carol", "bob"), json.getJsonArray("sends").getJsonObject(1).getJsonArray("to").getList());
  }
}
