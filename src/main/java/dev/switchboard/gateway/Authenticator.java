package dev.switchboard.gateway;

import dev.switchboard.auth.Identity;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocketHandshake;

/** Decides who a connecting client is. */
interface Authenticator {

  Future<Identity> authenticate(ServerWebSocketHandshake handshake);
}
