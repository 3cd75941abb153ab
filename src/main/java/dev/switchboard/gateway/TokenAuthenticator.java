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
 * A {@code ?user=} that is present must match the token's subject. A request carries one token:
 * with two (even equal ones) it is not clear which the client meant, so it is refused, as RFC 6750
 * section 2 requires of bearer tokens.
 */
final class TokenAuthenticator implements Authenticator {

  static final String SUBPROTOCOL_PREFIX = "token.";

  private final TokenVerifier verifier;

  TokenAuthenticator(TokenVerifier verifier) {
    this.verifier = verifier;
  }

  @Override
  public Future<Identity> authenticate(ServerWebSocketHandshake handshake) {
    String token;
    try {
      token = token(handshake);
    } catch (ProtocolException e) {
      return Future.failedFuture(e);
    }
    String claimed = QueryParams.first(handshake.query(), "user");
    return verifier.verify(token).compose(identity -> claimed == null || claimed.equals(identity.user())
        ? Future.succeededFuture(identity)
        : Future.failedFuture(new ProtocolException(ErrorCode.INVALID_TOKEN, "the token is for another user")));
  }

  /** The one token of the request, null when there is none; throws when there are several. */
  private static String token(ServerWebSocketHandshake handshake) {
    int found = QueryParams.count(handshake.query(), "token");
    String token = found > 0 ? QueryParams.first(handshake.query(), "token") : null;
    for (String header : handshake.headers().getAll("Sec-WebSocket-Protocol")) {
      for (String entry : header.split(",")) {
        String protocol = entry.trim();
        if (protocol.startsWith(SUBPROTOCOL_PREFIX)) {
          found++;
          token = protocol.substring(SUBPROTOCOL_PREFIX.length());
        }
      }
    }
    if (found > 1) {
      throw new ProtocolException(ErrorCode.INVALID_TOKEN, "the request carries " + found + " tokens; send exactly one");
    }
    return token;
  }
}
