package dev.switchboard.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code auth} section: who a connection is, and who may push.
 *
 * @param mode {@code insecure} (the user id comes from {@code ?user=}: demos only) or {@code jwt}
 */
public record AuthConfig(
    String mode,
    boolean insecureOnPublicAddress,
    String jwtAlgorithm,
    String jwtKey,
    String jwtIssuer,
    String jwtAudience,
    int jwtLeewaySeconds,
    boolean allowTokensWithoutExp,
    List<String> allowedOrigins,
    List<ApiKey> apiKeys) {

  public static final String INSECURE = "INSECURE";
  public static final String JWT = "JWT";

  /**
   * A push API key: its name (shown as {@code from}), the SHA-256 of the key in hex, whether it may
   * set {@code from}, and whether it may use the admin API (a user's presence, inbox head and cursors).
   */
  public record ApiKey(String name, String sha256, boolean mayImpersonate, boolean admin) {
  }

  public boolean insecure() {
    return INSECURE.equals(mode);
  }

  public static AuthConfig fromJson(JsonObject root) {
    ConfigSection s = new ConfigSection(root, "auth");
    String mode = s.oneOf("mode", List.of(INSECURE, JWT));
    String algorithm = s.oneOf("jwtAlgorithm", List.of("HS256", "RS256", "ES256"));
    String key = s.optionalString("jwtKey");
    if (JWT.equals(mode)) {
      if (key.isEmpty()) {
        throw new IllegalArgumentException(s.key("jwtKey") + " is required when auth.mode is jwt");
      }
      if (algorithm.equals("HS256") && key.getBytes(StandardCharsets.UTF_8).length < 32) {
        throw new IllegalArgumentException(s.key("jwtKey") + " must be at least 32 bytes for HS256");
      }
    }
    return new AuthConfig(mode, s.bool("insecureOnPublicAddress"), algorithm, key, s.optionalString("jwtIssuer"),
        s.optionalString("jwtAudience"), s.intIn("jwtLeewaySeconds", 0, 600), s.bool("allowTokensWithoutExp"), s.strings("allowedOrigins"),
        apiKeys(s));
  }

  private static List<ApiKey> apiKeys(ConfigSection s) {
    Object raw = s.raw("apiKeys");
    JsonArray array = raw instanceof String text ? new JsonArray(text) : (JsonArray) raw;
    List<ApiKey> keys = new ArrayList<>();
    for (Object o : array) {
      if (!(o instanceof JsonObject k) || !(k.getValue("name") instanceof String name)
          || !(k.getValue("sha256") instanceof String hash) || !hash.matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(s.key("apiKeys") + " entries need a name and a sha256 (64 hex digits)");
      }
      keys.add(new ApiKey(name, hash.toLowerCase(), k.getBoolean("mayImpersonate", false), k.getBoolean("admin", false)));
    }
    return List.copyOf(keys);
  }
}
