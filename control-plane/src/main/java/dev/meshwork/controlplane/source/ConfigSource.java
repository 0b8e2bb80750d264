package dev.meshwork.controlplane.source;

import dev.meshwork.controlplane.model.RawConfig;
import java.util.function.Consumer;

/** A source of mesh config that tells a sink each time the set of objects changed. */
public interface ConfigSource extends AutoCloseable {

  /**
   * Starts watching. The sink receives a first complete set once the source is in sync, then one
   * set per debounced burst of changes; calls never overlap.
   *
   * @throws ConfigSourceException when the source cannot start (folder missing, API unreachable)
   */
  void start(Consumer<RawConfig> sink);

  /** A short description for logs ({@code directory /etc/mesh}, {@code kubernetes https://...}). */
  String describe();

  @Override
  void close();

  /** The source could not start or read its config. */
  final class ConfigSourceException extends RuntimeException {
    public ConfigSourceException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
