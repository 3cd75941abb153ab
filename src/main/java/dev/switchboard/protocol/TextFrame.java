package dev.switchboard.protocol;

/**
 * The seed's text format. A client frame {@code TO|CONTENT} goes to TO; a frame without {@code |}
 * goes to the recipient this connection used last. CONTENT may itself hold {@code |}.
 */
public final class TextFrame {

  public record Parsed(String to, String content) {
  }

  private TextFrame() {
  }

  public static Parsed parse(String frame, String lastRecipient) {
    int bar = frame.indexOf('|');
    if (bar < 0) {
      if (lastRecipient == null) {
        throw new ProtocolException(ErrorCode.NO_RECIPIENT, "send TO|CONTENT first to name a recipient");
      }
      return new Parsed(lastRecipient, frame);
    }
    return new Parsed(frame.substring(0, bar), frame.substring(bar + 1));
  }

  /**
   * What a text client receives for a message: the content, optionally prefixed with {@code FROM|}.
   * The sender id is escaped with the content: ids may hold {@code <} and {@code >}, and the seed
   * page inserts the whole line as HTML.
   */
  public static String delivery(String from, String content, boolean prefixSender, boolean escapeHtml) {
    String line = prefixSender ? from + "|" + content : content;
    return escapeHtml ? escapeHtml(line) : line;
  }

  /**
   * What a text client receives where messages {@code from}..{@code to} were removed by retention
   * before it received them: text clients have no gap frame, and nothing may be skipped silently.
   * One line, like a message, so that the seed page shows it.
   */
  public static String gap(long from, long to, boolean escapeHtml) {
    long count = to - from + 1;
    String line = "GAP|" + from + "|" + to + "|" + count
        + (count == 1 ? " message expired before it could be delivered" : " messages expired before they could be delivered");
    return escapeHtml ? escapeHtml(line) : line;
  }

  /** What a text client receives for an error; escaped like deliveries, since messages may name the user. */
  public static String error(ErrorCode code, String message, boolean escapeHtml) {
    String line = "ERROR|" + code.wireName() + "|" + message;
    return escapeHtml ? escapeHtml(line) : line;
  }

  /** The seed page appends frames as HTML; escaping keeps a message from running script there. */
  public static String escapeHtml(String s) {
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String replacement = switch (c) {
        case '<' -> "&lt;";
        case '>' -> "&gt;";
        case '&' -> "&amp;";
        case '"' -> "&quot;";
        case '\'' -> "&#39;";
        default -> null;
      };
      if (replacement != null) {
        if (out == null) {
          out = new StringBuilder(s.length() + 16).append(s, 0, i);
        }
        out.append(replacement);
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? s : out.toString();
  }
}
