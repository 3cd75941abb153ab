package dev.switchboard.gateway;

import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocketHandshake;

/** Decides who a connecting client is. The result is the user id the session acts as. */
interface Authenticator {

  Future<String> authenticate(ServerWebSocketHandshake handshake);
}
