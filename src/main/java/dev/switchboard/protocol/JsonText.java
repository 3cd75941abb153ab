package dev.switchboard.protocol;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * For JSON written straight into a string on hot paths (a frame or record per message): the same
 * bytes as {@code JsonObject.encode()} gives, without a Jackson generator per call.
 */
public final class JsonText {

  private JsonText() {
  }

  /** Appends {@code value} as a JSON string, quoted and escaped as Jackson does ({@code null} as null). */
  public static StringBuilder quote(StringBuilder out, String value) {
    if (value == null) {
      return out.append("null");
    }
    out.append('"');
    JsonStringEncoder.getInstance().quoteAsString(value, out);
    return out.append('"');
  }
}
