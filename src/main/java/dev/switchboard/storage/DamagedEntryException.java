package dev.switchboard.storage;

import java.io.IOException;

/**
 * A read found bytes in the log that do not match what was recorded of them (an entry longer than
 * its segment, or a message whose CRC-32C differs from its index's): damage at rest, not an I/O
 * error, so the segment is reported damaged rather than the read merely retried.
 */
final class DamagedEntryException extends IOException {

  DamagedEntryException(String message) {
    super(message);
  }
}
