package dev.switchboard.gateway;

import dev.switchboard.auth.Identity;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocketHandshake;

/**
 * JWT mode: the token comes as {@code ?token=} or, since browsers cannot set headers on a
 * WebSocket, as a subprotocol entry {@code token.<JWT>} beside {@code switchboard.v1}.
 * A {@code ?user=} that is present must match the token's subject.
 */
final class TokenAuthenticator implements Authenticator {

  static final String SUBPROTOCOL_PREFIX = "token.";

  private final TokenVerifier verifier;

  TokenAuthenticator(TokenVerifier verifier) {
    this.verifier = verifier;
  }

  @Override
  public Future<Identity> authenticate(ServerWebSocketHandshake handshake) {
    String claimed = QueryParams.first(handshake.query(), "user");
    return verifier.verify(token(handshake)).compose(identity -> claimed == null || claimed.equals(identity.user())
        ? Future.succeededFuture(identity)
        : Future.failedFuture(new ProtocolException(ErrorCode.INVALID_TOKEN, "the token is for another user")));
  }

  private static String token(ServerWebSocketHandshake handshake) {
    String fromQuery = QueryParams.first(handshake.query(), "token");
    if (fromQuery != null) {
      return fromQuery;
    }
    for (String header : handshake.headers().getAll("Sec-WebSocket-Protocol")) {
      for (String entry : header.split(",")) {
        String protocol = entry.trim();
        if (protocol.startsWith(SUBPROTOCOL_PREFIX)) {
          return protocol.substring(SUBPROTOCOL_PREFIX.length());
        }
      }
    }
    return null;
  }
}
