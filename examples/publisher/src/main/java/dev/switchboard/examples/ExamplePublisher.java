package dev.switchboard.examples;

import com.hazelcast.config.Config;
import com.hazelcast.config.ClasspathXmlConfig;
import com.hazelcast.config.FileSystemXmlConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PfxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.File;
import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletionException;

/**
 * A back end that pushes through the cluster's event bus: it joins the Switchboard cluster as a
 * plain Vert.x member (no Switchboard code), requests {@code switchboard.push} once, prints the
 * reply and leaves.
 *
 * <p>It joins with the nodes' Hazelcast configuration ({@code conf/cluster.xml} from the working
 * directory, else the copy in this jar) and the same {@code -Dswitchboard.cluster.*} properties.
 * When the nodes run the event bus over TLS it reads the same {@code SWITCHBOARD_CLUSTER_*}
 * variables a node reads, pointing at a key store of its own; in {@code jwt} mode it presents the
 * API key in {@code SWITCHBOARD_API_KEY} (a variable, so the key is not on the command line).
 *
 * <p>Exit code 0 when the push was stored (for at least one recipient: the reply lists any
 * refused), 1 when it was refused or not answered, 2 on bad arguments.
 */
public final class ExamplePublisher {

  /** The address and header docs/event-bus.md documents as the public push API. */
  static final String PUSH_ADDRESS = "switchboard.push";
  static final String API_KEY_HEADER = "apiKey";

  static final String CLUSTER_XML = "conf/cluster.xml";

  private ExamplePublisher() {
  }

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: ExamplePublisher TO[,TO...] BODY [FROM]");
      System.exit(2);
    }
    JsonObject push = new JsonObject()
        .put("to", new JsonArray(Arrays.asList(args[0].split(","))))
        .put("body", args[1]);
    if (args.length > 2) {
      push.put("from", args[2]);
    }
    Map<String, String> env = System.getenv();
    DeliveryOptions request = new DeliveryOptions().setSendTimeout(15_000);
    String apiKey = env.getOrDefault("SWITCHBOARD_API_KEY", "");
    if (!apiKey.isEmpty()) {
      request.addHeader(API_KEY_HEADER, apiKey);
    }
    VertxOptions options = new VertxOptions();
    applyTls(options.getEventBusOptions(), env);
    Vertx vertx = Vertx.builder()
        .with(options)
        .withClusterManager(new HazelcastClusterManager(clusterConfig()))
        .buildClustered()
        .toCompletionStage().toCompletableFuture().join();
    int exitCode;
    try {
      Message<JsonObject> reply = vertx.eventBus().<JsonObject>request(PUSH_ADDRESS, push, request)
          .toCompletionStage().toCompletableFuture().join();
      System.out.println("stored: " + reply.body().encode());
      exitCode = 0;
    } catch (CompletionException e) {
      System.out.println("refused: " + describe(e.getCause()));
      exitCode = 1;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
    System.exit(exitCode);
  }

  /** The nodes' TLS settings, with this member's own key store: every member needs TLS once one has it. */
  static void applyTls(EventBusOptions options, Map<String, String> env) {
    if (Boolean.parseBoolean(env.getOrDefault("SWITCHBOARD_CLUSTER_EVENT_BUS_TLS", "false"))) {
      options.setSsl(true)
          .setClientAuth(ClientAuth.REQUIRED)
          .setKeyCertOptions(new PfxOptions().setPath(env.get("SWITCHBOARD_CLUSTER_KEY_STORE"))
              .setPassword(env.get("SWITCHBOARD_CLUSTER_KEY_STORE_PASSWORD")))
          .setTrustOptions(new PfxOptions().setPath(env.get("SWITCHBOARD_CLUSTER_TRUST_STORE"))
              .setPassword(env.get("SWITCHBOARD_CLUSTER_TRUST_STORE_PASSWORD")));
    }
  }

  /** conf/cluster.xml with its placeholders filled from system properties, else the nodes' defaults. */
  static Config clusterConfig() {
    Properties properties = new Properties();
    properties.setProperty("switchboard.cluster.name", "switchboard");
    properties.setProperty("switchboard.cluster.port", "5701");
    properties.setProperty("switchboard.cluster.members", "127.0.0.1:5701,127.0.0.1:5702,127.0.0.1:5703,127.0.0.1:5704");
    properties.setProperty("switchboard.cluster.interface", "127.0.0.1");
    properties.putAll(System.getProperties());
    File file = new File(CLUSTER_XML);
    try {
      return file.exists() ? new FileSystemXmlConfig(file, properties) : new ClasspathXmlConfig(CLUSTER_XML, properties);
    } catch (FileNotFoundException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A refusal by its failure code (docs/event-bus.md lists them), or why no node answered. */
  private static String describe(Throwable failure) {
    if (failure instanceof ReplyException reply && reply.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      return reply.failureCode() + ": " + reply.getMessage();
    }
    return String.valueOf(failure);
  }
}
