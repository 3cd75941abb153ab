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
 * audience when configured. The user is the token's {@code sub}. A token is valid until its
 * {@code exp} plus {@code auth.jwtLeewaySeconds}, at connect as for the end of its session; one
 * without {@code exp} only when {@code auth.allowTokensWithoutExp}.
 */
public final class TokenVerifier {

  private final JWTAuth jwt;
  private final long leewayMillis;
  private final boolean allowWithoutExp;

  public TokenVerifier(Vertx vertx, AuthConfig config) {
    leewayMillis = config.jwtLeewaySeconds() * 1000L;
    allowWithoutExp = config.allowTokensWithoutExp();
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
          if (!(exp instanceof Number number)) {
            return allowWithoutExp ? Future.succeededFuture(Identity.unlimited(subject))
                : Future.failedFuture(new ProtocolException(ErrorCode.INVALID_TOKEN, "token has no exp"));
          }
          long expiresAt = number.longValue() * 1000;
          // One rule for accepting a token and for ending its session: valid while now < exp + leeway.
          long endsAt = expiresAt + leewayMillis;
          if (System.currentTimeMillis() >= endsAt) {
            return Future.failedFuture(new ProtocolException(ErrorCode.INVALID_TOKEN, "token refused: expired"));
          }
          return Future.succeededFuture(new Identity(subject, expiresAt, endsAt));
        });
  }

  /** A short reason: parser messages can be long and echo the input. */
  private static String reason(Throwable e) {
    String message = e.getMessage();
    return message == null || message.length() > 60 ? "malformed or unverifiable" : message;
  }
}
