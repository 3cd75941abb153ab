package dev.switchboard.push;

import dev.switchboard.bus.Addresses;
import dev.switchboard.metrics.ClusterView;
import dev.switchboard.metrics.SwitchboardMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The admin members list: every member of the cluster with its address and the sessions it holds.
 * Each node answers for itself on {@link Addresses#status}; the list asks every member when it is
 * requested, so it is never older than the request and needs no timer or shared map. A member that
 * does not answer (not a Switchboard node, or stopping) is listed as unreachable.
 */
final class ClusterMembers {

  private final Vertx vertx;
  private final ClusterView cluster;
  private final SwitchboardMetrics metrics;
  private final DeliveryOptions requestOptions;

  ClusterMembers(Vertx vertx, SwitchboardMetrics metrics, DeliveryOptions requestOptions) {
    this.vertx = vertx;
    this.cluster = new ClusterView(vertx);
    this.metrics = metrics;
    this.requestOptions = requestOptions;
  }

  /** Answers for this node; completes once the consumer is registered with the cluster. */
  Future<Void> answerForThisNode() {
    return vertx.eventBus().<JsonObject>consumer(Addresses.status(cluster.nodeId()), this::onStatus).completion();
  }

  private void onStatus(Message<JsonObject> message) {
    message.reply(new JsonObject()
        .put("node", cluster.nodeId())
        .put("address", cluster.address())
        .put("sessions", metrics.sessionsOpen()));
  }

  /** {@code {"nodes": [...], "sessions": total}}: this node first, then the others by node id. */
  Future<JsonObject> list() {
    String self = cluster.nodeId();
    List<String> ids = new ArrayList<>(cluster.nodeIds());
    ids.sort((a, b) -> a.equals(self) ? -1 : b.equals(self) ? 1 : a.compareTo(b));
    List<Future<JsonObject>> answers = ids.stream().map(id -> vertx.eventBus()
        .<JsonObject>request(Addresses.status(id), new JsonObject(), requestOptions)
        .map(reply -> reply.body().copy().put("reachable", true))
        .otherwise(e -> new JsonObject().put("node", id).putNull("address").putNull("sessions").put("reachable", false))
        .map(member -> member.put("self", id.equals(self))))
        .toList();
    return Future.all(answers).map(done -> {
      JsonArray nodes = new JsonArray();
      long sessions = 0;
      for (Future<JsonObject> answer : answers) {
        JsonObject member = answer.result();
        nodes.add(member);
        Integer held = member.getInteger("sessions");
        sessions += held == null ? 0 : held;
      }
      return new JsonObject().put("nodes", nodes).put("sessions", sessions);
    });
  }
}
