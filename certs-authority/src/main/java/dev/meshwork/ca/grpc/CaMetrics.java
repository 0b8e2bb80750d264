package dev.meshwork.ca.grpc;

import dev.meshwork.api.SpiffeId;
import io.grpc.Status;

/**
 * Hooks for counting the CSR service's outcomes (the control plane binds them to its meters).
 * Called on the request thread; implementations must be thread-safe and fast.
 */
public interface CaMetrics {
  CaMetrics NOOP = new CaMetrics() {};

  /** A certificate was issued to {@code identity}. */
  default void issued(SpiffeId identity) {}

  /** A request was refused with {@code code} ({@code identity} is null if it was never proven). */
  default void refused(Status.Code code, SpiffeId identity) {}
}
