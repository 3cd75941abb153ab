package dev.switchboard.protocol;

/** UTF-8 sizes without encoding: limits are in bytes, and a 64 KiB body should not be copied to be measured. */
public final class Utf8 {

  private Utf8() {
  }

  public static long length(CharSequence s) {
    long bytes = 0;
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
