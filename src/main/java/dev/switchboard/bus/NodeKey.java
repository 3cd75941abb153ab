package dev.switchboard.bus;

import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code cluster.nodeKey} on the event bus between nodes: presented in the {@link Addresses#NODE_KEY_HEADER}
 * header on what a node sends another node, and, when required (outside insecure mode), checked on
 * what it receives, in constant time.
 */
public final class NodeKey {

  private final String key;
  private final byte[] required;

  /**
   * @param key      {@code cluster.nodeKey}; empty: nothing presented
   * @param required whether what arrives must present it
   */
  public NodeKey(String key, boolean required) {
    this.key = key;
    this.required = required ? key.getBytes(StandardCharsets.UTF_8) : null;
  }

  /** Options for sending to another node: with the key, when one is set. */
  public DeliveryOptions options() {
    return key.isEmpty() ? new DeliveryOptions() : new DeliveryOptions().addHeader(Addresses.NODE_KEY_HEADER, key);
  }

  /** Whether {@code message} may be taken as a node's: it presents the key, or none is required. */
  public boolean presentedBy(Message<?> message) {
    if (required == null) {
      return true;
    }
    String presented = message.headers().get(Addresses.NODE_KEY_HEADER);
    return presented != null && !presented.isEmpty()
        && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8), required);
  }
}
