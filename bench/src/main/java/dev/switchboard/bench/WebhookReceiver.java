package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

/**
 * The webhook receiver of {@code backlog --webhook}: an HTTP server on the generator's event loop,
 * listening on loopback where the server under test was told to POST its offline notifications
 * ({@code webhook.url}); every request goes to a {@link WebhookTally}, which decides the answer.
 */
final class WebhookReceiver {

  private final Vertx vertx;
  private final WebhookTally tally;

  WebhookReceiver(Vertx vertx, WebhookTally tally) {
    this.vertx = vertx;
    this.tally = tally;
  }

  /** On the loop: listens on 127.0.0.1:{@code port}; completes once it does. */
  Future<Void> listen(int port) {
    // closed with the generator's Vert.x instance at the end of the run
    HttpServer server = vertx.createHttpServer().requestHandler(this::onRequest);
    return server.listen(port, "127.0.0.1").mapEmpty();
  }

  private void onRequest(HttpServerRequest req) {
    if (req.method() != HttpMethod.POST) {
      req.response().setStatusCode(405).end();
      return;
    }
    req.body()
        .onSuccess(body -> req.response().setStatusCode(tally.onPost(req.getHeader("X-Switchboard-Timestamp"),
            req.getHeader("X-Switchboard-Signature"), body.getBytes(), System.currentTimeMillis() / 1000,
            System.nanoTime())).end())
        .onFailure(e -> {
          tally.malformed++;
          req.response().setStatusCode(400).end();
        });
  }
}
