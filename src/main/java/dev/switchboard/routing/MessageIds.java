package dev.switchboard.routing;

import java.security.SecureRandom;

/**
 * Unique message ids without coordination: a random 64-bit prefix chosen per router instance and
 * start, then a counter. Cheap on the hot path (no UUID, no lock), unique across nodes and restarts.
 */
final class MessageIds {

  private final String prefix;
  private long counter;

  MessageIds() {
    this.prefix = Long.toUnsignedString(new SecureRandom().nextLong(), 36);
  }

  String next() {
    return prefix + "-" + Long.toString(counter++, 36);
  }
}
