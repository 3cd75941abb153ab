package dev.switchboard.support;

import dev.switchboard.webhook.WebhookSigner;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A webhook receiver on a real socket: answers each POST with the next scripted status (then with
 * {@link #defaultStatus}), checks every signature, and keeps the notifications of the posts it
 * answered 2xx, in order, so a test can wait for a count of them.
 */
public final class WebhookReceiver {

  public static final String SECRET = "test-secret-0123456789";

  private final HttpServer server;
  private final WebhookSigner signer = new WebhookSigner(SECRET);
  private final ArrayDeque<Integer> script = new ArrayDeque<>();
  private volatile int defaultStatus = 200;
  private final List<JsonObject> taken = new ArrayList<>();
  private final List<Promise<List<JsonObject>>> waiters = new ArrayList<>();
  private final List<Integer> waitingFor = new ArrayList<>();
  private int posts;
  private final List<Promise<Void>> postWaiters = new ArrayList<>();
  private final List<Integer> postCounts = new ArrayList<>();
  private int badSignatures;

  private WebhookReceiver(HttpServer server) {
    this.server = server;
  }

  public static Future<WebhookReceiver> start(Vertx vertx) {
    HttpServer server = vertx.createHttpServer();
    WebhookReceiver receiver = new WebhookReceiver(server);
    server.requestHandler(receiver::onRequest);
    return server.listen(0, "127.0.0.1").map(s -> receiver);
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort() + "/hook";
  }

  /** The config section that points a test server at this receiver, with quick polls and retries. */
  public JsonObject config() {
    return new JsonObject().put("url", url()).put("secret", SECRET).put("pollIntervalMillis", 100)
        .put("retryInitialMillis", 50).put("retryMaxMillis", 200).put("timeoutMillis", 2000);
  }

  /** The next posts are answered with these statuses, in order. */
  public synchronized void answer(Integer... statuses) {
    script.addAll(List.of(statuses));
  }

  /** What posts get once the script is used up. */
  public void answerFromNowOn(int status) {
    defaultStatus = status;
  }

  private void onRequest(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      int status;
      synchronized (this) {
        posts++;
        if (!signer.verify(request.getHeader(WebhookSigner.TIMESTAMP_HEADER), request.getHeader(WebhookSigner.SIGNATURE_HEADER),
            body.getBytes(), System.currentTimeMillis() / 1000, 300)) {
          badSignatures++;
        }
        for (int i = postWaiters.size() - 1; i >= 0; i--) {
          if (posts >= postCounts.get(i)) {
            postWaiters.remove(i).complete();
            postCounts.remove(i);
          }
        }
        Integer scripted = script.poll();
        status = scripted != null ? scripted : defaultStatus;
        if (status / 100 == 2) {
          body.toJsonObject().getJsonArray("notifications").forEach(n -> taken.add((JsonObject) n));
          settleWaiters();
        }
      }
      request.response().setStatusCode(status).end();
    });
  }

  private void settleWaiters() {
    for (int i = waiters.size() - 1; i >= 0; i--) {
      if (taken.size() >= waitingFor.get(i)) {
        waiters.remove(i).complete(List.copyOf(taken));
        waitingFor.remove(i);
      }
    }
  }

  /** Completes once posts answered 2xx have carried at least {@code count} notifications: all of them so far. */
  public synchronized Future<List<JsonObject>> taken(int count) {
    if (taken.size() >= count) {
      return Future.succeededFuture(List.copyOf(taken));
    }
    Promise<List<JsonObject>> promise = Promise.promise();
    waiters.add(promise);
    waitingFor.add(count);
    return promise.future();
  }

  public synchronized int posts() {
    return posts;
  }

  public synchronized int badSignatures() {
    return badSignatures;
  }

  /** Completes once at least {@code count} posts arrived, whatever they were answered. */
  public synchronized Future<Void> posted(int count) {
    if (posts >= count) {
      return Future.succeededFuture();
    }
    Promise<Void> promise = Promise.promise();
    postWaiters.add(promise);
    postCounts.add(count);
    return promise.future();
  }

  public Future<Void> close() {
    return server.close();
  }
}
