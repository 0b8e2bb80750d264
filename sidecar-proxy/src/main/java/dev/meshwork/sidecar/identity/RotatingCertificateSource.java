package dev.meshwork.sidecar.identity;

import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the workload's identity fresh: on {@link #start()} it generates a P-256 key in memory and
 * asks the issuer for a certificate; then renews (with a new key) at the {@link RenewalSchedule}
 * point, about half the lifetime. When the CA cannot be reached it retries with {@link Backoff} and
 * keeps serving the current certificate as long as it is valid.
 *
 * <p>Publication order: {@link #current()} switches to the new identity first, then listeners are
 * told, so a listener that reads {@code current()} sees what it was given. All work, including
 * listener calls, runs on one daemon thread owned by this object.
 */
@ThreadSafe
public final class RotatingCertificateSource implements CertificateSource, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RotatingCertificateSource.class);

  private final CertificateIssuer issuer;
  private final RenewalSchedule schedule;
  private final Backoff backoff;
  private final Clock clock;
  private final RandomGenerator random;
  private final ScheduledExecutorService executor;
  private final AtomicReference<WorkloadIdentity> current = new AtomicReference<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final CountDownLatch firstIdentity = new CountDownLatch(1);
  private final Object publication = new Object();

  /** Confined to the executor thread. */
  private int failures;

  public RotatingCertificateSource(
      CertificateIssuer issuer,
      RenewalSchedule schedule,
      Backoff backoff,
      Clock clock,
      RandomGenerator random) {
    this.issuer = issuer;
    this.schedule = schedule;
    this.backoff = backoff;
    this.clock = clock;
    this.random = random;
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("meshwork-identity").daemon().unstarted(r));
  }

  public RotatingCertificateSource(CertificateIssuer issuer) {
    this(
        issuer,
        RenewalSchedule.DEFAULT,
        Backoff.DEFAULT,
        Clock.systemUTC(),
        RandomGenerator.getDefault());
  }

  /** Starts the first request at once; returns without waiting (see {@link #awaitReady}). */
  public void start() {
    executor.execute(this::attempt);
  }

  @Override
  public Optional<WorkloadIdentity> current() {
    return Optional.ofNullable(current.get());
  }

  /**
   * Ready while an identity is held and not expired. An expired certificate (CA unreachable for
   * half a lifetime) turns readiness off so Kubernetes stops routing to a pod peers would refuse.
   */
  @Override
  public boolean isReady() {
    WorkloadIdentity identity = current.get();
    return identity != null && clock.instant().isBefore(identity.notAfter());
  }

  @Override
  public void addListener(Listener listener) {
    // Under the publication lock: a listener added while an identity is being published gets it
    // exactly once, either here or from the publisher, never twice or not at all.
    synchronized (publication) {
      listeners.add(listener);
      WorkloadIdentity identity = current.get();
      if (identity != null) {
        call(listener, identity);
      }
    }
  }

  @Override
  public Optional<WorkloadIdentity> awaitReady(Duration timeout) throws InterruptedException {
    firstIdentity.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    return current();
  }

  private void attempt() {
    try {
      KeyPair keys = WorkloadCsrs.newKeyPair();
      WorkloadIdentity identity = issuer.issue(keys);
      Instant renewAt = schedule.renewAt(identity.notBefore(), identity.notAfter(), random);
      log.info("identity {} obtained; renewal at {}", identity, renewAt);
      synchronized (publication) {
        current.set(identity);
        listeners.forEach(l -> call(l, identity));
      }
      failures = 0;
      firstIdentity.countDown();
      // Never sooner than the first backoff step: a CA whose clock runs ahead (renewal point
      // already past) must not be hammered in a loop.
      Duration untilRenewal = Duration.between(clock.instant(), renewAt);
      scheduleIn(untilRenewal.compareTo(backoff.initial()) < 0 ? backoff.initial() : untilRenewal);
    } catch (RuntimeException e) {
      Duration delay = backoff.delay(failures++, random);
      WorkloadIdentity held = current.get();
      boolean retryable = !(e instanceof IssuanceException ie) || ie.retryable();
      if (!retryable) {
        // Refusals (PERMISSION_DENIED, INVALID_ARGUMENT) need an operator; retry slowly anyway.
        delay = backoff.max();
      }
      if (held == null) {
        log.warn("no identity yet (attempt {}): {}; retry in {}", failures, e.getMessage(), delay);
      } else if (clock.instant().isBefore(held.notAfter())) {
        log.warn(
            "renewal failed (attempt {}): {}; keeping {} valid until {}; retry in {}",
            failures,
            e.getMessage(),
            held.id(),
            held.notAfter(),
            delay);
      } else {
        log.error(
            "identity {} EXPIRED at {} and renewal fails: {}; retry in {}",
            held.id(),
            held.notAfter(),
            e.getMessage(),
            delay);
      }
      scheduleIn(delay);
    }
  }

  private void scheduleIn(Duration delay) {
    if (!executor.isShutdown()) {
      executor.schedule(this::attempt, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
    }
  }

  private static void call(Listener listener, WorkloadIdentity identity) {
    try {
      listener.onIdentity(identity);
    } catch (RuntimeException e) {
      log.warn("identity listener {} failed", listener, e);
    }
  }

  /** Stops renewing. The current identity stays readable. */
  @Override
  public void close() throws InterruptedException {
    executor.shutdownNow();
    executor.awaitTermination(5, TimeUnit.SECONDS);
  }
}
