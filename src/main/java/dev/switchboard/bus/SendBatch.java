package dev.switchboard.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The client sends one gateway instance read in one event-loop turn, in arrival order. One bus
 * message for many sends: each hop between verticles costs a thread wake-up, so it is paid per
 * batch rather than per message. The commands are handed to the router as they are (it validates
 * them); the JSON form is {@code {"sends": [SendCommand JSON]}}.
 */
public record SendBatch(List<SendCommand> sends) {

  public JsonObject toJson() {
    List<Object> commands = new ArrayList<>(sends.size());
    sends.forEach(command -> commands.add(command.toJson()));
    return new JsonObject().put("sends", new JsonArray(commands));
  }

  public static SendBatch fromJson(JsonObject json) {
    return new SendBatch(JsonLists.fromArray(json.getJsonArray("sends"), SendCommand::fromJson));
  }
}
