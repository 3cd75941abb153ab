package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Tells when the nodes of a cluster form one cluster: a probe user online on each node must be
 * present (presence API, read from the cluster-wide user directory) as seen from every node. Nodes
 * that formed separate clusters, or a node whose directory map is not shared yet, fail the probe.
 */
final class ClusterProbe {

  private ClusterProbe() {
  }

  /** Waits (at most {@code timeoutMs}) until every node sees the probe users of all nodes; false if it never did. */
  static boolean awaitFormed(Loop loop, long[] wsPorts, long[] pushPorts, long timeoutMs) {
    if (wsPorts.length < 2) {
      return true;
    }
    int nodes = wsPorts.length;
    Hub hub = new Hub(loop.vertx, new Tracker(new Token(0), nodes), 1, 50);
    WsUser[] probes = new WsUser[nodes];
    List<WebSocketClient> clients = loop.call(() -> loop.wsClients(1, 10_000));
    HttpClientAgent http = loop.call(() -> loop.vertx.createHttpClient());
    long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
    try {
      loop.run(() -> {
        for (int j = 0; j < nodes; j++) {
          probes[j] = new WsUser(hub, j, "probe" + j);
        }
      });
      loop.await(() -> Future.all(connectAll(probes, clients.get(0), wsPorts)), timeoutMs);
      while (System.nanoTime() < deadline) {
        boolean formed = loop.call(() -> hub.synced >= nodes) && loop.await(() -> seenEverywhere(http, pushPorts), 10_000);
        if (formed) {
          return true;
        }
        Loop.sleep(250);
      }
      return false;
    } catch (IllegalStateException e) {
      System.err.println("[bench] cluster probe: " + e.getMessage());
      return false;
    } finally {
      try {
        loop.await(() -> {
          List<Future<Void>> closing = new ArrayList<>();
          for (WsUser p : probes) {
            if (p != null) {
              closing.add(p.close());
            }
          }
          return Future.join(closing).eventually(http::close);
        }, 10_000);
      } catch (IllegalStateException e) {
        // best effort: the probes close with the loop
      }
    }
  }

  private static List<Future<Void>> connectAll(WsUser[] probes, WebSocketClient client, long[] wsPorts) {
    List<Future<Void>> connecting = new ArrayList<>();
    for (int j = 0; j < probes.length; j++) {
      connecting.add(probes[j].connect(client, (int) wsPorts[j], "probe", 10_000));
    }
    return connecting;
  }

  /** Every node reports one session for every probe user. */
  private static Future<Boolean> seenEverywhere(HttpClientAgent http, long[] pushPorts) {
    List<Future<Integer>> counts = new ArrayList<>();
    for (long port : pushPorts) {
      for (int j = 0; j < pushPorts.length; j++) {
        counts.add(http.request(HttpMethod.GET, (int) port, "127.0.0.1", "/api/v1/users/probe" + j + "/presence")
            .compose(req -> req.send())
            .compose(resp -> resp.body())
            .map(body -> new JsonObject(body).getInteger("sessions", 0)));
      }
    }
    return Future.all(counts).map(all -> {
      for (int i = 0; i < all.size(); i++) {
        if (all.<Integer>resultAt(i) < 1) {
          return false;
        }
      }
      return true;
    }).otherwise(false);
  }
}
