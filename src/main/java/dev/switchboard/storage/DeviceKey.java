package dev.switchboard.storage;

/** One device of one user: the key of a read cursor. */
public record DeviceKey(String user, String device) {
}
