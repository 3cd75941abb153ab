package dev.switchboard.routing;

import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.ProtocolException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's counts of its users' sessions as another node sends them (a change's {@code changes}, a
 * snapshot's {@code sessions}: {@code [[user, count, version], ...]}), read whole before any is
 * applied. A body of another shape, from a node of another version or any member of the event bus,
 * is refused with the field it gets wrong, so a message is applied whole or not at all.
 */
final class ReplicaCounts {

  /** One user's sessions on the sending node, as of the node's change {@code version}. */
  record Count(String user, int sessions, long version) {
  }

  private ReplicaCounts() {
  }

  /** The body as a JSON object; else {@link ErrorCode#BAD_JSON}. */
  static JsonObject object(Object body) {
    if (!(body instanceof JsonObject object)) {
      throw new ProtocolException(ErrorCode.BAD_JSON, "the body is not a JSON object");
    }
    return object;
  }

  /** The sending node's id; else {@link ErrorCode#MISSING_FIELD} or {@link ErrorCode#INVALID_FIELD}. */
  static String node(JsonObject body) {
    Object node = body.getValue("node");
    if (node == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, "node is absent");
    }
    if (!(node instanceof String id) || id.isEmpty()) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, "node must be a node id");
    }
    return id;
  }

  /**
   * Every count in {@code field} of {@code body}; else {@link ErrorCode#MISSING_FIELD} or
   * {@link ErrorCode#INVALID_FIELD} naming the field, or the change, that is wrong.
   */
  static List<Count> counts(JsonObject body, String field) {
    Object listed = body.getValue(field);
    if (listed == null) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, field + " is absent");
    }
    if (!(listed instanceof JsonArray array)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, field + " must be an array of [user, count, version]");
    }
    List<Count> counts = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      counts.add(count(array.getValue(i), field + "[" + i + "]"));
    }
    return counts;
  }

  private static Count count(Object value, String name) {
    if (!(value instanceof JsonArray triple)) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, name + " must be an array [user, count, version]");
    }
    if (triple.size() < 3) {
      throw new ProtocolException(ErrorCode.MISSING_FIELD, name + " must hold user, count and version");
    }
    if (!(triple.getValue(0) instanceof String user) || user.isEmpty()) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, name + ": the user must be a user id");
    }
    Long sessions = integral(triple.getValue(1));
    if (sessions == null || sessions < 0 || sessions > Integer.MAX_VALUE) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, name + ": the count must be a whole number of 0 or more");
    }
    Long version = integral(triple.getValue(2));
    if (version == null) {
      throw new ProtocolException(ErrorCode.INVALID_FIELD, name + ": the version must be a whole number");
    }
    return new Count(user, sessions.intValue(), version);
  }

  /** The value when it is a whole number within a long, else null. */
  private static Long integral(Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    return null;
  }
}
