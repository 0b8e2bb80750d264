package dev.meshwork.sidecar.identity;

import dev.meshwork.api.SpiffeId;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One issued identity: the key (in memory only), its certificate chain, and the roots to trust.
 * Immutable; a rotation produces a new instance.
 *
 * @param id the SPIFFE ID in the leaf's URI SAN
 * @param key private key generated in this process
 * @param chain leaf first, then intermediates (no root)
 * @param trustBundle roots for verifying peers; several during a root rotation overlap
 */
public record WorkloadIdentity(
    SpiffeId id, PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trustBundle) {

  public WorkloadIdentity {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(key, "key");
    chain = List.copyOf(chain);
    trustBundle = List.copyOf(trustBundle);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("empty certificate chain for " + id);
    }
    if (trustBundle.isEmpty()) {
      throw new IllegalArgumentException("empty trust bundle for " + id);
    }
  }

  public X509Certificate leaf() {
    return chain.getFirst();
  }

  public Instant notBefore() {
    return leaf().getNotBefore().toInstant();
  }

  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }

  @Override
  public String toString() {
    // The key is deliberately left out: identities end up in logs.
    return "WorkloadIdentity["
        + id
        + " serial="
        + leaf().getSerialNumber().toString(16)
        + " notAfter="
        + notAfter()
        + "]";
  }
}
