package dev.meshwork.ca.pki;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Objects;

/**
 * One root with the intermediate it certified, and the intermediate's signing key. A root rotation
 * produces a new generation; the old root stays in the trust bundle until its overlap ends.
 *
 * @param root self-signed root certificate
 * @param rootKey the root's private key, or {@code null} when the operator supplied only the
 *     intermediate's key (then Meshwork cannot rotate the root itself)
 * @param intermediate issuing CA certificate, signed by {@code root}
 * @param intermediateKey signs every leaf
 */
public record CaGeneration(
    X509Certificate root,
    PrivateKey rootKey,
    X509Certificate intermediate,
    PrivateKey intermediateKey) {

  public CaGeneration {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(intermediate, "intermediate");
    Objects.requireNonNull(intermediateKey, "intermediateKey");
  }

  /** The intermediate stops being usable for new leaves at this instant. */
  public Instant intermediateNotAfter() {
    return intermediate.getNotAfter().toInstant();
  }

  @Override
  public String toString() {
    // Keys never appear in logs.
    return "CaGeneration[root="
        + root.getSubjectX500Principal().getName()
        + " serial="
        + root.getSerialNumber().toString(16)
        + ", intermediate notAfter="
        + intermediateNotAfter()
        + "]";
  }
}
