package dev.switchboard.storage;

import java.io.IOException;

/**
 * A write refused because an earlier sync failed: the store takes no more writes until it is
 * restarted (reads go on). Its cause was logged once, at ERROR, when it happened.
 */
final class WritesStoppedException extends IOException {

  WritesStoppedException(String message) {
    super(message);
  }
}
