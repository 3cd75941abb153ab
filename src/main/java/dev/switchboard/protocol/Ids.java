package dev.switchboard.protocol;

/**
 * The rule for user and device ids: 1 to {@code maxLength} characters, none of them whitespace,
 * control or format characters, nor {@code |} (the seed text format's separator). Device ids
 * starting with {@code ~} are reserved for the server.
 */
public final class Ids {

  private final int maxLength;

  public Ids(int maxLength) {
    this.maxLength = maxLength;
  }

  /** Returns the id, or throws {@link ProtocolException} with {@link ErrorCode#INVALID_USER} naming the field. */
  public String requireValid(String field, String id) {
    String problem = problem(id);
    if (problem != null) {
      throw new ProtocolException(ErrorCode.INVALID_USER, field + " " + problem);
    }
    return id;
  }

  public String requireValidDevice(String device) {
    requireValid("device", device);
    if (device.startsWith("~")) {
      throw new ProtocolException(ErrorCode.INVALID_USER, "device ids starting with ~ are reserved");
    }
    return device;
  }

  public boolean isValid(String id) {
    return problem(id) == null;
  }

  private String problem(String id) {
    if (id == null || id.isEmpty()) {
      return "is empty";
    }
    int length = id.codePointCount(0, id.length());
    if (length > maxLength) {
      return "is longer than " + maxLength + " characters";
    }
    for (int i = 0; i < id.length(); ) {
      int cp = id.codePointAt(i);
      int type = Character.getType(cp);
      if (cp == '|' || Character.isWhitespace(cp) || Character.isSpaceChar(cp)
          || type == Character.CONTROL || type == Character.FORMAT
          || type == Character.SURROGATE || type == Character.UNASSIGNED || type == Character.PRIVATE_USE) {
        return "has a forbidden character at position " + id.codePointCount(0, i);
      }
      i += Character.charCount(cp);
    }
    return null;
  }
}
