package dev.switchboard.support;

import dev.switchboard.SwitchboardVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;

/** A real Switchboard deployed in the test's Vert.x, on ports the OS picks, with its own data dir. */
public final class TestServer {

  public final Vertx vertx;
  public final SwitchboardVerticle verticle;
  public final String deploymentId;

  private TestServer(Vertx vertx, SwitchboardVerticle verticle, String deploymentId) {
    this.vertx = vertx;
    this.verticle = verticle;
    this.deploymentId = deploymentId;
  }

  /** Config for a test server: ephemeral ports, the given data dir, then {@code overrides} merged in. */
  public static JsonObject config(Path dataDir, JsonObject overrides) {
    JsonObject config = new JsonObject()
        .put("gateway", new JsonObject().put("port", 0))
        .put("push", new JsonObject().put("port", 0))
        .put("inbox", new JsonObject().put("dataDir", dataDir.toString()));
    return config.mergeIn(overrides, true);
  }

  public static Future<TestServer> start(Vertx vertx, Path dataDir) {
    return start(vertx, dataDir, new JsonObject());
  }

  public static Future<TestServer> start(Vertx vertx, Path dataDir, JsonObject overrides) {
    SwitchboardVerticle verticle = new SwitchboardVerticle();
    return vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config(dataDir, overrides)))
        .map(id -> new TestServer(vertx, verticle, id));
  }

  public int gatewayPort() {
    return verticle.gatewayPort();
  }

  public int pushPort() {
    return verticle.pushPort();
  }

  public Future<WsClient> json(String user, String device) {
    return WsClient.connect(vertx, gatewayPort(), "/ws?user=" + user + "&device=" + device, true);
  }

  /** A JSON client whose backlog has been delivered (its {@code synced} frame taken). */
  public Future<WsClient> online(String user, String device) {
    return json(user, device).compose(client -> client.expect("synced").map(synced -> client));
  }

  public Future<WsClient> text(String user) {
    return WsClient.connect(vertx, gatewayPort(), "/ws?user=" + user, false);
  }

  public Future<Void> stop() {
    return vertx.undeploy(deploymentId);
  }
}
