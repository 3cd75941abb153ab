package dev.switchboard.support;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/** Plain HTTP requests against a test server, answered as status, headers and body. */
public final class Http {

  public record Response(int status, MultiMap headers, Buffer body) {
    public JsonObject json() {
      return body.toJsonObject();
    }
  }

  private final HttpClient client;
  private final int port;

  public Http(Vertx vertx, int port) {
    this.client = vertx.createHttpClient();
    this.port = port;
  }

  public Future<Response> request(HttpMethod method, String path, Map<String, String> headers, Buffer body) {
    // A request that stalls fails after 10 s with the request named, instead of hanging the test.
    RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path)
        .setIdleTimeout(10_000);
    headers.forEach(options::addHeader);
    return client.request(options)
        .compose(req -> body == null ? req.send() : req.send(body))
        .compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), resp.headers(), b)));
  }

  public Future<Response> postJson(String path, JsonObject body) {
    return postJson(path, body, Map.of());
  }

  public Future<Response> postJson(String path, JsonObject body, Map<String, String> extraHeaders) {
    java.util.HashMap<String, String> headers = new java.util.HashMap<>(extraHeaders);
    headers.putIfAbsent("Content-Type", "application/json");
    return request(HttpMethod.POST, path, headers, body.toBuffer());
  }

  public Future<Response> get(String path) {
    return request(HttpMethod.GET, path, Map.of(), null);
  }
}
