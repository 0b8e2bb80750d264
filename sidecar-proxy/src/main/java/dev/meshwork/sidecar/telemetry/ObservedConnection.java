package dev.meshwork.sidecar.telemetry;

/**
 * One passed-through TCP connection. Called on the connection's event loop; {@link #closed} counts
 * only the first time.
 */
public interface ObservedConnection {
  ObservedConnection NONE = new ObservedConnection() {};

  /** {@code bytes} went towards the destination. */
  default void sent(long bytes) {}

  /** {@code bytes} came back from the destination. */
  default void received(long bytes) {}

  /** The connection ended (either side). */
  default void closed() {}
}
