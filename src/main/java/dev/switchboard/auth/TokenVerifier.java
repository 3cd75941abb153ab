package dev.switchboard.auth;

import dev.switchboard.config.AuthConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.util.List;

/**
 * Checks client JWTs with vertx-auth-jwt: the signature with the configured key and algorithm
 * only (so {@code alg: none} and other algorithms are refused), {@code exp}, and the issuer and
 * audience when configured. The user is the token's {@code sub}.
 */
public final class TokenVerifier {

  private final JWTAuth jwt;

  public TokenVerifier(Vertx vertx, AuthConfig config) {
    JWTOptions options = new JWTOptions().setLeeway(config.jwtLeewaySeconds());
    if (!config.jwtIssuer().isEmpty()) {
      options.setIssuer(config.jwtIssuer());
    }
    if (!config.jwtAudience().isEmpty()) {
      options.setAudience(List.of(config.jwtAudience()));
    }
    this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(config.jwtAlgorithm()).setBuffer(config.jwtKey()))
        .setJWTOptions(options));
  }

  public Future<Identity> verify(String token) {
    if (token == null || token.isEmpty()) {
      return Future.failedFuture(new ProtocolException(ErrorCode.INVALID_TOKEN, "a token is required"));
    }
    return jwt.authenticate(new TokenCredentials(token))
        .recover(e -> Future.failedFuture(new ProtocolException(ErrorCode.INVALID_TOKEN, "token refused: " + reason(e))))
        .compose(user -> {
          // vertx-auth-jwt keeps the verified claims in the user's attributes.
          JsonObject claims = user.attributes();
          Object sub = claims.getValue("sub");
          if (!(sub instanceof String subject)) {
            return Future.failedFuture(new ProtocolException(ErrorCode.INVALID_TOKEN, "token has no sub"));
          }
          Object exp = claims.getValue("exp");
          long expiresAt = exp instanceof Number n ? n.longValue() * 1000 : 0;
          return Future.succeededFuture(new Identity(subject, expiresAt));
        });
  }

  /** A short reason: parser messages can be long and echo the input. */
  private static String reason(Throwable e) {
    String message = e.getMessage();
    return message == null || message.length() > 60 ? "malformed or unverifiable" : message;
  }
}
