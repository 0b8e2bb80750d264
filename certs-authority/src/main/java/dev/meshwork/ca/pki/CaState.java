package dev.meshwork.ca.pki;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything the CA persists: the active generation (which signs) and the roots of earlier
 * generations that stay trusted until their overlap ends.
 *
 * @param active signs new leaves; its root heads the trust bundle
 * @param retiring previous roots, each trusted until its {@code trustedUntil}
 */
public record CaState(CaGeneration active, List<RetiringRoot> retiring) {

  /** A root that no longer signs but is still trusted so leaves it issued keep working. */
  public record RetiringRoot(X509Certificate root, Instant trustedUntil) {
    public RetiringRoot {
      Objects.requireNonNull(root, "root");
      Objects.requireNonNull(trustedUntil, "trustedUntil");
    }
  }

  public CaState {
    Objects.requireNonNull(active, "active");
    retiring = List.copyOf(retiring);
  }

  public static CaState of(CaGeneration active) {
    return new CaState(active, List.of());
  }

  /** Roots peers must trust: the active one first, then those still in their overlap. */
  public List<X509Certificate> trustBundle() {
    List<X509Certificate> roots = new ArrayList<>();
    roots.add(active.root());
    retiring.forEach(r -> roots.add(r.root()));
    return List.copyOf(roots);
  }

  /** This state with {@code next} signing and the current root kept until {@code trustedUntil}. */
  public CaState rotateTo(CaGeneration next, Instant trustedUntil) {
    List<RetiringRoot> kept = new ArrayList<>(retiring);
    kept.add(new RetiringRoot(active.root(), trustedUntil));
    return new CaState(next, kept);
  }

  /** This state without roots whose overlap ended at or before {@code now}. */
  public CaState withoutRetiredAt(Instant now) {
    return new CaState(
        active, retiring.stream().filter(r -> r.trustedUntil().isAfter(now)).toList());
  }
}
