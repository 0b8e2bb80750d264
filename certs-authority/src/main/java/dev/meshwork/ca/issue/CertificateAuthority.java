package dev.meshwork.ca.issue;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.pki.CaGeneration;
import dev.meshwork.ca.pki.CaState;
import dev.meshwork.ca.pki.Certificates;
import dev.meshwork.ca.pki.WorkloadCsr;
import dev.meshwork.ca.store.CaStateCodec;
import dev.meshwork.ca.store.CaStore;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh CA: signs workload SVIDs and serving certificates with the active intermediate, and
 * manages the root's lifecycle (first start, reuse after restart, rotation with overlap,
 * intermediate renewal).
 *
 * <p>It does not authenticate anyone: callers (the CSR service) decide whose identity a CSR may
 * carry before asking for a signature.
 */
@ThreadSafe
public final class CertificateAuthority {
  private static final Logger log = LoggerFactory.getLogger(CertificateAuthority.class);

  private final CaConfig config;
  private final CaStore store;
  private final Clock clock;
  private final AtomicReference<CaState> state;
  private final ReentrantLock changes = new ReentrantLock();
  private final List<TrustBundleListener> listeners = new CopyOnWriteArrayList<>();

  private CertificateAuthority(CaConfig config, CaStore store, Clock clock, CaState initial) {
    this.config = config;
    this.store = store;
    this.clock = clock;
    this.state = new AtomicReference<>(initial);
  }

  /**
   * Loads the CA's material from {@code store}, or on first start generates a root and an
   * intermediate and stores them. Material an operator put in the store (root-cert.pem,
   * ca-cert.pem, ca-key.pem) is used as is.
   *
   * @throws dev.meshwork.ca.store.CaMaterialException if stored material is inconsistent
   * @throws dev.meshwork.ca.store.CaStoreException if the store cannot be reached
   */
  public static CertificateAuthority start(CaConfig config, CaStore store, Clock clock) {
    Optional<Map<String, String>> stored = store.load();
    CaState state;
    if (stored.isPresent()) {
      state = CaStateCodec.decode(stored.get(), store.describe());
      log.info("CA material loaded from {}: {}", store.describe(), state.active());
    } else {
      CaGeneration fresh =
          Certificates.newGeneration(
              config.trustDomain(),
              clock.instant(),
              config.rootValidity(),
              config.intermediateValidity());
      Map<String, String> winner = store.createIfAbsent(CaStateCodec.encode(CaState.of(fresh)));
      state = CaStateCodec.decode(winner, store.describe());
      log.info("CA material created in {}: {}", store.describe(), state.active());
    }
    return new CertificateAuthority(config, store, clock, state);
  }

  public CaConfig config() {
    return config;
  }

  /** Roots peers must trust now; the active one first. */
  public List<X509Certificate> trustBundle() {
    return state.get().trustBundle();
  }

  /** The active root and intermediate. */
  public CaGeneration activeGeneration() {
    return state.get().active();
  }

  /**
   * Signs a workload certificate for the CSR's identity. The caller must have checked that this
   * identity is the one the requester proved.
   *
   * @param requested lifetime asked for; zero means the default (see {@link CaConfig#grantedTtl})
   * @throws IllegalArgumentException if the identity is in another trust domain
   */
  public IssuedCertificate issueWorkload(WorkloadCsr csr, Duration requested) {
    SpiffeId id = csr.identity();
    if (!id.trustDomain().equals(config.trustDomain())) {
      throw new IllegalArgumentException(
          "identity " + id + " is outside trust domain " + config.trustDomain());
    }
    CaState current = state.get();
    X509Certificate leaf =
        Certificates.workload(
            current.active(),
            csr.publicKey(),
            id.uri(),
            clock.instant(),
            config.grantedTtl(requested));
    return new IssuedCertificate(
        List.of(leaf, current.active().intermediate()), current.trustBundle());
  }

  /** Signs a TLS serving certificate for {@code dnsNames} (the webhook, the control plane). */
  public IssuedCertificate issueServing(PublicKey key, List<String> dnsNames, Duration ttl) {
    CaState current = state.get();
    X509Certificate leaf =
        Certificates.serving(current.active(), key, dnsNames, clock.instant(), ttl);
    return new IssuedCertificate(
        List.of(leaf, current.active().intermediate()), current.trustBundle());
  }

  /**
   * Starts a root rotation (phase 1): a new root and intermediate are generated and the new root
   * joins the trust bundle at once, while the current generation keeps signing. {@link #maintain}
   * switches signing to the new generation after {@link CaConfig#rootPropagation()} (phase 2), and
   * drops the old root {@link CaConfig#rootOverlap()} later. At no point does a workload meet a
   * leaf under a root it has not been given.
   *
   * @throws IllegalStateException if the root key is not held (operator-supplied intermediate) or a
   *     rotation is already under way
   */
  public void rotateRoot() {
    changes.lock();
    try {
      CaState current = state.get();
      if (current.active().rootKey() == null) {
        throw new IllegalStateException(
            "cannot rotate the root: its key is not in "
                + store.describe()
                + "; the operator must supply a new root and intermediate");
      }
      if (current.pending() != null) {
        throw new IllegalStateException(
            "a root rotation is already under way since " + current.pendingSince());
      }
      Instant now = clock.instant();
      CaGeneration next =
          Certificates.newGeneration(
              config.trustDomain(), now, config.rootValidity(), config.intermediateValidity());
      CaState rotating = current.withPending(next, now);
      store.replace(CaStateCodec.encode(rotating));
      state.set(rotating);
      log.info(
          "root rotation started: new {} trusted now, signs from {}",
          next,
          now.plus(config.rootPropagation()));
    } finally {
      changes.unlock();
    }
    notifyListeners();
  }

  /**
   * Periodic upkeep, safe to call often: promotes a pending root once its propagation time has
   * passed, drops roots whose overlap ended, and renews the intermediate once less than a quarter
   * of its life (or less than the longest leaf lifetime) is left.
   */
  public void maintain() {
    boolean bundleChanged;
    changes.lock();
    try {
      Instant now = clock.instant();
      CaState current = state.get();
      CaState next = current;
      boolean promoted = false;
      if (next.pending() != null
          && !now.isBefore(next.pendingSince().plus(config.rootPropagation()))) {
        next = next.promotePending(now.plus(config.rootOverlap()));
        promoted = true;
        log.info(
            "root rotation: {} signs now; old root trusted until {}",
            next.active(),
            now.plus(config.rootOverlap()));
      }
      int retiringBefore = next.retiring().size();
      next = next.withoutRetiredAt(now);
      bundleChanged = promoted || next.retiring().size() != retiringBefore;
      CaGeneration active = next.active();
      Duration life =
          Duration.between(
              active.intermediate().getNotBefore().toInstant(), active.intermediateNotAfter());
      Duration left = Duration.between(now, active.intermediateNotAfter());
      boolean renew =
          active.rootKey() != null
              && (left.compareTo(life.dividedBy(4)) < 0
                  || left.compareTo(config.maxWorkloadTtl()) < 0);
      if (renew) {
        CaGeneration renewed =
            Certificates.newIntermediate(
                active.root(),
                active.rootKey(),
                config.trustDomain(),
                now,
                config.intermediateValidity());
        next = new CaState(renewed, next.pending(), next.pendingSince(), next.retiring());
        log.info("intermediate renewed: {}", renewed);
      }
      if (bundleChanged || renew) {
        store.replace(CaStateCodec.encode(next));
        state.set(next);
        if (bundleChanged) {
          log.info("trust bundle now holds {} root(s)", next.trustBundle().size());
        }
      }
    } finally {
      changes.unlock();
    }
    if (bundleChanged) {
      notifyListeners();
    }
  }

  /**
   * Re-reads the store and adopts what another replica (the leader) wrote there: a rotation phase,
   * a renewed intermediate, a retired root. Followers call this periodically instead of {@link
   * #maintain}, so every replica signs with the same generation and serves the same bundle.
   *
   * @return true if the state changed
   */
  public boolean reload() {
    boolean bundleChanged;
    changes.lock();
    try {
      Map<String, String> stored = store.load().orElse(null);
      if (stored == null || stored.equals(CaStateCodec.encode(state.get()))) {
        return false;
      }
      CaState fresh = CaStateCodec.decode(stored, store.describe());
      bundleChanged = !fresh.trustBundle().equals(state.get().trustBundle());
      state.set(fresh);
      log.info("CA material reloaded from {}: {}", store.describe(), fresh.active());
    } finally {
      changes.unlock();
    }
    if (bundleChanged) {
      notifyListeners();
    }
    return true;
  }

  /** Registers {@code listener} and calls it at once with the current bundle. */
  public void addTrustBundleListener(TrustBundleListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
    call(listener, trustBundle());
  }

  private void notifyListeners() {
    List<X509Certificate> bundle = trustBundle();
    listeners.forEach(l -> call(l, bundle));
  }

  private static void call(TrustBundleListener listener, List<X509Certificate> bundle) {
    try {
      listener.onTrustBundle(bundle);
    } catch (RuntimeException e) {
      log.warn("trust bundle listener {} failed", listener, e);
    }
  }
}
