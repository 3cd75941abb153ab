package dev.switchboard.gateway;

import dev.switchboard.auth.Identity;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocketHandshake;

/**
 * Insecure mode: the user id is taken from {@code ?user=}, as the seed page sends it. Anyone can
 * claim any id this way, so it is for demos on loopback only (see {@code auth.mode}).
 */
final class QueryUserAuthenticator implements Authenticator {

  @Override
  public Future<Identity> authenticate(ServerWebSocketHandshake handshake) {
    String user = QueryParams.first(handshake.query(), "user");
    if (user == null) {
      return Future.failedFuture(new ProtocolException(ErrorCode.INVALID_USER, "connect with ?user=ID"));
    }
    return Future.succeededFuture(Identity.unlimited(user));
  }
}
