package dev.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

/** Posts to Switchboard's push API ({@code POST /api/v1/messages}). */
final class Pusher {

  private final HttpClientAgent client;
  private final int port;
  private final RequestOptions request;
  long ok;
  long failed;
  /** Answered 503 overloaded: the server refused the push to protect itself (nothing stored). */
  long refused;
  String lastFailure;

  Pusher(Vertx vertx, int port, int connections) {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(connections));
    this.port = port;
    request = newRequest();
  }

  private RequestOptions newRequest() {
    return new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
        .setURI("/api/v1/messages").putHeader("content-type", "application/json").setIdleTimeout(60_000);
  }

  /** {@code "u1","u2",...} for the {@code to} array. */
  static String recipients(int[] users) {
    StringBuilder sb = new StringBuilder(users.length * 8);
    for (int i = 0; i < users.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append("\"u").append(users[i]).append('"');
    }
    return sb.toString();
  }

  /** Pushes {@code body} to the users in {@code toJson}; the future tells whether the server answered 202. */
  Future<Boolean> push(String toJson, String body) {
    return push(toJson, body, null);
  }

  /**
   * The same with an {@code Idempotency-Key} (when not null): a back end that retries a push whose
   * answer it did not get sends the same key, and the server stores it once.
   */
  Future<Boolean> push(String toJson, String body, String idempotencyKey) {
    Buffer payload = Buffer.buffer(toJson.length() + body.length() + 40)
        .appendString("{\"to\":[").appendString(toJson).appendString("],\"body\":\"").appendString(body)
        .appendString("\",\"from\":\"bench\"}");
    RequestOptions options = idempotencyKey == null ? request
        : newRequest().putHeader("Idempotency-Key", idempotencyKey);
    return client.request(options)
        .compose(req -> req.send(payload))
        .compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() == 202) {
            return true;
          }
          if (resp.statusCode() == 503 && b.toString().contains("\"overloaded\"")) {
            refused++;
            return null;
          }
          lastFailure = resp.statusCode() + " " + b.toString().substring(0, Math.min(200, b.length()));
          return false;
        }))
        .map(accepted -> {
          if (accepted == null) {
            return false;
          }
          if (accepted) {
            ok++;
          } else {
            failed++;
          }
          return accepted;
        })
        .recover(e -> {
          failed++;
          lastFailure = String.valueOf(e.getMessage());
          return Future.succeededFuture(false);
        });
  }
}
