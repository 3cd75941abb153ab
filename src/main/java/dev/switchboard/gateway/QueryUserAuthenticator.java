package dev.switchboard.gateway;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocketHandshake;

/**
 * Takes the user id from {@code ?user=}, as the seed page does. Anyone can claim any id this way:
 * it stands in until token authentication replaces it.
 */
final class QueryUserAuthenticator implements Authenticator {

  @Override
  public Future<String> authenticate(ServerWebSocketHandshake handshake) {
    String user = QueryParams.first(handshake.query(), "user");
    if (user == null) {
      return Future.failedFuture(new ProtocolException(ErrorCode.INVALID_USER, "connect with ?user=ID"));
    }
    return Future.succeededFuture(user);
  }
}
