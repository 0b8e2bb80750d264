package dev.meshwork.ca.store;

import java.util.Map;
import java.util.Optional;

/**
 * Persists the CA's material as named PEM entries (see {@link CaStateCodec}).
 *
 * <p>{@link #createIfAbsent} exists so two control-plane replicas starting together agree on one
 * root: the loser of the race gets the winner's entries back.
 */
public interface CaStore {

  /** The stored entries, or empty on first start. */
  Optional<Map<String, String>> load();

  /**
   * Stores {@code entries} unless something is stored already.
   *
   * @return what is stored afterwards: {@code entries}, or what another writer stored first
   */
  Map<String, String> createIfAbsent(Map<String, String> entries);

  /** Replaces the stored entries (rotation, intermediate renewal). */
  void replace(Map<String, String> entries);

  /** Where the material lives, for logs. */
  String describe();
}
