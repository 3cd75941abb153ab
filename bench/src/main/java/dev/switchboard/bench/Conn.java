package dev.switchboard.bench;

import io.vertx.core.Future;

/** One simulated user's connection, whatever the protocol. */
interface Conn {

  boolean isOpen();

  /** This user's next own sequence number as a sender. */
  long nextSeq();

  /** Writes one message of this user to user {@code to}; counts it under peer slot {@code peer}. */
  void send(int to, long seq, int peer, long intended);

  /** Sends a pending ack now, if there is one (no-op where the protocol acks by itself). */
  void flushAck();

  long[] sentPerPeer();

  long[] rejectedPerPeer();

  Future<Void> close();
}
