package dev.meshwork.sidecar.identity;

import java.time.Duration;
import java.util.Optional;

/**
 * Where the data path gets the workload identity. The TLS layer reads {@link #current()} on each
 * handshake (or rebuilds its context in a listener); readiness waits for the first identity.
 */
public interface CertificateSource {

  /** The identity to present now; empty until the first certificate arrives. */
  Optional<WorkloadIdentity> current();

  /** True once a first identity has been obtained (the sidecar's readiness). */
  default boolean isReady() {
    return current().isPresent();
  }

  /**
   * Registers {@code listener}; if an identity exists it is delivered at once. Later identities are
   * delivered on the source's thread after {@link #current()} already returns them.
   */
  void addListener(Listener listener);

  /**
   * Blocks until the first identity is in or {@code timeout} passes.
   *
   * @return the identity, or empty on timeout
   */
  Optional<WorkloadIdentity> awaitReady(Duration timeout) throws InterruptedException;

  /** Told of every new identity. Must not block; a throw is logged and ignored. */
  @FunctionalInterface
  interface Listener {
    void onIdentity(WorkloadIdentity identity);
  }
}
