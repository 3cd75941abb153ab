package dev.switchboard.config;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's config table must list every key of conf/config.json, with its variable. */
class ConfigDocsTest {

  @Test
  @DisplayName("every configuration key has a README row naming its environment variable")
  void everyKeyIsDocumented() throws IOException {
    JsonObject defaults = new JsonObject(Files.readString(Path.of(ConfigLoader.DEFAULTS_PATH)));
    String readme = Files.readString(Path.of("README.md"));
    for (String section : defaults.fieldNames()) {
      for (String key : defaults.getJsonObject(section).fieldNames()) {
        String row = "| `" + section + "." + key + "` |";
        assertTrue(readme.contains(row), "README.md lacks the row " + row);
        String env = ConfigLoader.envName(section, key);
        assertTrue(readme.contains("`" + env + "`"), "README.md lacks " + env);
      }
    }
  }
}
