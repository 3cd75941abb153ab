package dev.switchboard.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Loads the configuration once: {@code conf/config.json} (from the working directory, else from the
 * jar), then the {@code -conf} JSON given to the launcher, then environment variables, each layer
 * overriding the one before.
 *
 * <p>An environment variable overrides a key that the defaults file names: {@code gateway.port} is
 * {@code SWITCHBOARD_GATEWAY_PORT}, {@code inbox.maxMessagesPerUser} is
 * {@code SWITCHBOARD_INBOX_MAX_MESSAGES_PER_USER}. Lists are comma-separated.
 */
public final class ConfigLoader {

  public static final String DEFAULTS_PATH = "conf/config.json";
  public static final String ENV_PREFIX = "SWITCHBOARD_";

  private ConfigLoader() {
  }

  public static Future<JsonObject> load(Vertx vertx, JsonObject launcherConfig, Map<String, String> environment) {
    ConfigRetrieverOptions options = new ConfigRetrieverOptions()
        .setIncludeDefaultStores(false)
        .setScanPeriod(-1)
        .addStore(new ConfigStoreOptions().setType("file").setFormat("json")
            .setConfig(new JsonObject().put("path", DEFAULTS_PATH)))
        .addStore(new ConfigStoreOptions().setType("json").setConfig(launcherConfig.copy()));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever.getConfig()
        .map(merged -> applyEnvironment(merged, environment))
        .eventually(retriever::close);
  }

  /**
   * The same layers as {@link #load}, read on the calling thread without a Vert.x: for the settings
   * that must be known before Vert.x starts (the event bus's TLS), and for publishers.
   */
  public static JsonObject loadNow(JsonObject launcherConfig, Map<String, String> environment) {
    JsonObject merged = readDefaults().mergeIn(launcherConfig == null ? new JsonObject() : launcherConfig.copy(), true);
    return applyEnvironment(merged, environment);
  }

  /** {@link #DEFAULTS_PATH} from the working directory, else from the jar, as Vert.x's file store finds it. */
  private static JsonObject readDefaults() {
    try {
      Path file = Path.of(DEFAULTS_PATH);
      if (Files.exists(file)) {
        return new JsonObject(Files.readString(file));
      }
      try (InputStream in = ConfigLoader.class.getClassLoader().getResourceAsStream(DEFAULTS_PATH)) {
        if (in == null) {
          throw new IllegalStateException(DEFAULTS_PATH + " not found");
        }
        return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Replaces every leaf key {@code section.key} whose environment variable is set. */
  static JsonObject applyEnvironment(JsonObject config, Map<String, String> environment) {
    for (String section : config.fieldNames()) {
      if (!(config.getValue(section) instanceof JsonObject values)) {
        continue;
      }
      for (String key : values.fieldNames().toArray(new String[0])) {
        String value = environment.get(envName(section, key));
        if (value != null) {
          values.put(key, value);
        }
      }
    }
    return config;
  }

  /** {@code ("inbox", "maxMessagesPerUser")} becomes {@code SWITCHBOARD_INBOX_MAX_MESSAGES_PER_USER}. */
  public static String envName(String section, String key) {
    String snake = key.replaceAll("([a-z0-9])([A-Z])", "$1_$2");
    return (ENV_PREFIX + section + "_" + snake).toUpperCase(Locale.ROOT);
  }
}
