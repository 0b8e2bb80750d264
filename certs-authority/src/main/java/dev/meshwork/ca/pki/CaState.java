package dev.meshwork.ca.pki;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything the CA persists: the active generation (which signs), a pending generation during the
 * first phase of a root rotation (trusted, not yet signing), and the roots of earlier generations
 * that stay trusted until their overlap ends.
 *
 * <p>A rotation has two phases so no peer ever sees a leaf under a root it does not trust yet: (1)
 * the new root joins the bundle while the old one still signs, until every workload has renewed and
 * so holds both roots; (2) the new generation signs, and the old root stays trusted until every
 * leaf it vouches for has expired.
 *
 * @param active signs new leaves; its root heads the trust bundle
 * @param pending next generation, trusted but not signing; null when no rotation is under way
 * @param pendingSince when {@code pending} was published; null iff {@code pending} is
 * @param retiring previous roots, each trusted until its {@code trustedUntil}
 */
public record CaState(
    CaGeneration active, CaGeneration pending, Instant pendingSince, List<RetiringRoot> retiring) {

  /** A root that no longer signs but is still trusted so leaves it issued keep working. */
  public record RetiringRoot(X509Certificate root, Instant trustedUntil) {
    public RetiringRoot {
      Objects.requireNonNull(root, "root");
      Objects.requireNonNull(trustedUntil, "trustedUntil");
    }
  }

  public CaState {
    Objects.requireNonNull(active, "active");
    if ((pending == null) != (pendingSince == null)) {
      throw new IllegalArgumentException("pending generation and its publication time go together");
    }
    retiring = List.copyOf(retiring);
  }

  public static CaState of(CaGeneration active) {
    return new CaState(active, null, null, List.of());
  }

  /** Roots peers must trust: the active one first, then the pending one, then retiring ones. */
  public List<X509Certificate> trustBundle() {
    List<X509Certificate> roots = new ArrayList<>();
    roots.add(active.root());
    if (pending != null) {
      roots.add(pending.root());
    }
    retiring.forEach(r -> roots.add(r.root()));
    return List.copyOf(roots);
  }

  /** Phase 1: {@code next} joins the trust bundle; the active generation keeps signing. */
  public CaState withPending(CaGeneration next, Instant since) {
    return new CaState(active, next, since, retiring);
  }

  /** Phase 2: the pending generation signs; the current root stays trusted until {@code until}. */
  public CaState promotePending(Instant trustedUntil) {
    if (pending == null) {
      throw new IllegalStateException("no pending generation to promote");
    }
    List<RetiringRoot> kept = new ArrayList<>(retiring);
    kept.add(new RetiringRoot(active.root(), trustedUntil));
    return new CaState(pending, null, null, kept);
  }

  /** This state without roots whose overlap ended at or before {@code now}. */
  public CaState withoutRetiredAt(Instant now) {
    return new CaState(
        active,
        pending,
        pendingSince,
        retiring.stream().filter(r -> r.trustedUntil().isAfter(now)).toList());
  }
}
