package dev.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonWriterTest {

  @Test
  @DisplayName("objects, arrays of objects, nulls, negatives and raw values come out as JsonObject.encode() writes them")
  void sameAsJsonObject() {
    JsonWriter writer = new JsonWriter(4);
    writer.beginObject().field("a", (String) null).field("n", -12L).field("t", true).beginArray("list");
    writer.beginObject().field("x", "é\"\n").endObject();
    writer.beginObject().field("y", 0L).rawField("q", JsonWriter.quoted("\u2028")).endObject();
    String written = writer.endArray().field("f", false).endObject().takeString();
    JsonObject expected = new JsonObject().put("a", (String) null).put("n", -12L).put("t", true)
        .put("list", new JsonArray().add(new JsonObject().put("x", "é\"\n")).add(new JsonObject().put("y", 0L).put("q", "\u2028")))
        .put("f", false);
    assertEquals(expected.encode(), written);
  }

  @Test
  @DisplayName("a writer starts over after take, also after one large value")
  void reuse() {
    JsonWriter writer = new JsonWriter(8);
    String large = "z".repeat(100_000);
    assertEquals(new JsonObject().put("b", large).encode(),
        new String(writer.beginObject().field("b", large).endObject().take(), StandardCharsets.UTF_8));
    assertEquals("{\"c\":1}", writer.beginObject().field("c", 1L).endObject().takeString());
  }

  @Test
  @DisplayName("the fields of an object already encoded are spliced between the fields written around them, an empty one adds none")
  void fieldsOfAnEncodedObject() {
    String stored = new JsonObject().put("user", "bob").put("push", true).put("body", "é\"\n\u2028").encode();
    JsonWriter writer = new JsonWriter(8);
    String written = writer.beginObject().beginArray("list")
        .beginObject().field("id", "m-1").fieldsOf(stored).field("ts", 7L).endObject()
        .beginObject().fieldsOf("{}").field("id", "m-2").endObject()
        .endArray().endObject().takeString();
    JsonObject expected = new JsonObject().put("list", new JsonArray()
        .add(new JsonObject().put("id", "m-1").put("user", "bob").put("push", true).put("body", "é\"\n\u2028").put("ts", 7L))
        .add(new JsonObject().put("id", "m-2")));
    assertEquals(expected.encode(), written);
  }
}
