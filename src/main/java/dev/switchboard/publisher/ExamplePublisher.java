package dev.switchboard.publisher;

import dev.switchboard.ClusterConfig;
import dev.switchboard.bus.Addresses;
import dev.switchboard.config.ClusterSecurityConfig;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.Arrays;
import java.util.concurrent.CompletionException;

/**
 * A back end that pushes through the cluster's event bus: it joins the Switchboard cluster as a
 * plain Vert.x member (no Switchboard verticles), requests {@code switchboard.push} once, prints
 * the reply and leaves. It reads the nodes' configuration ({@code conf/config.json} and
 * {@code SWITCHBOARD_*} variables) for the event bus's TLS ({@code cluster.*}), and presents the API
 * key in {@code SWITCHBOARD_API_KEY}, which nodes in {@code jwt} mode require.
 *
 * <pre>
 * SWITCHBOARD_API_KEY=... java -cp target/switchboard-fat.jar dev.switchboard.publisher.ExamplePublisher bob "Your order has shipped" [from]
 * </pre>
 * Exit code 0 when the push was stored (for at least one recipient: the reply lists any refused),
 * 1 when it was refused or not answered, 2 on bad arguments.
 */
public final class ExamplePublisher {

  /** The environment variable holding the API key (a variable, so the key is not on the command line). */
  public static final String API_KEY_VARIABLE = "SWITCHBOARD_API_KEY";

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
    DeliveryOptions request = new DeliveryOptions().setSendTimeout(15_000);
    String apiKey = System.getenv(API_KEY_VARIABLE);
    if (apiKey != null && !apiKey.isEmpty()) {
      request.addHeader(Addresses.API_KEY_HEADER, apiKey);
    }
    VertxOptions options = new VertxOptions();
    ClusterSecurityConfig.fromJson(ConfigLoader.loadNow(new JsonObject(), System.getenv())).apply(options.getEventBusOptions());
    Vertx vertx = Vertx.builder()
        .with(options)
        .withClusterManager(new HazelcastClusterManager(ClusterConfig.load()))
        .buildClustered()
        .toCompletionStage().toCompletableFuture().join();
    int exitCode;
    try {
      Message<JsonObject> reply = vertx.eventBus().<JsonObject>request(Addresses.PUSH, push, request)
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

  /** A refusal by its error code ({@code id_reused}, {@code unauthorized}, ...), or why no node answered. */
  private static String describe(Throwable failure) {
    if (failure instanceof ReplyException reply && reply.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      return ErrorCode.fromFailureCode(reply.failureCode()).wireName() + " (" + reply.failureCode() + "): "
          + reply.getMessage();
    }
    return String.valueOf(failure);
  }
}
