package dev.switchboard.publisher;

import dev.switchboard.ClusterConfig;
import dev.switchboard.bus.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.Arrays;

/**
 * A back end that pushes through the cluster's event bus: it joins the Switchboard cluster as a
 * plain Vert.x member (no Switchboard verticles), requests {@code switchboard.push} once, prints
 * the reply and leaves.
 *
 * <pre>
 * java -cp target/switchboard-fat.jar dev.switchboard.publisher.ExamplePublisher bob "Your order has shipped" [from]
 * </pre>
 * Exit code 0 when the push was stored, 1 when it was refused, 2 on bad arguments.
 */
public final class ExamplePublisher {

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
    Vertx vertx = Vertx.builder()
        .withClusterManager(new HazelcastClusterManager(ClusterConfig.load()))
        .buildClustered()
        .toCompletionStage().toCompletableFuture().join();
    int exitCode;
    try {
      Message<JsonObject> reply = vertx.eventBus()
          .<JsonObject>request(Addresses.PUSH, push, new DeliveryOptions().setSendTimeout(15_000))
          .toCompletionStage().toCompletableFuture().join();
      System.out.println("reply: " + reply.body().encode());
      exitCode = 0;
    } catch (RuntimeException e) {
      System.out.println("refused: " + e.getCause().getMessage());
      exitCode = 1;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    }
    System.exit(exitCode);
  }
}
