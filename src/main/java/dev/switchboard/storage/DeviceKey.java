package dev.switchboard.storage;

/** One device of one user: the key of a read cursor. */
record DeviceKey(String user, String device) {
}
