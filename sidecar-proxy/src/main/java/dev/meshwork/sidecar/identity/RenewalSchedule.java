package dev.meshwork.sidecar.identity;

import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * When to renew a certificate: at {@code fraction} of its lifetime, moved by up to {@code jitter}
 * of the lifetime either way, so a fleet started together does not renew together. Defaults: 50% ±
 * 10%, as Istio and Linkerd do. Immutable.
 */
public record RenewalSchedule(double fraction, double jitter) {
  public static final RenewalSchedule DEFAULT = new RenewalSchedule(0.5, 0.1);

  public RenewalSchedule {
    if (!(fraction > 0 && fraction < 1)
        || !(jitter >= 0)
        || fraction - jitter <= 0
        || fraction + jitter >= 1) {
      throw new IllegalArgumentException(
          "renewal at " + fraction + " ± " + jitter + " must stay strictly inside the lifetime");
    }
  }

  /** The instant to renew a certificate valid from {@code notBefore} to {@code notAfter}. */
  public Instant renewAt(Instant notBefore, Instant notAfter, RandomGenerator random) {
    long lifetimeMillis = Duration.between(notBefore, notAfter).toMillis();
    double point = fraction + (random.nextDouble() * 2 - 1) * jitter;
    return notBefore.plusMillis((long) (lifetimeMillis * point));
  }
}
