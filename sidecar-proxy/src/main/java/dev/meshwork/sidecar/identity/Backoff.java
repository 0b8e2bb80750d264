package dev.meshwork.sidecar.identity;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter for CA calls: attempt n waits {@code initial * 2^n}, capped at
 * {@code max}, each wait randomized to 80-100% of its value so sidecars of a restarting CA do not
 * return in lockstep. Immutable; the attempt count is the caller's.
 */
public record Backoff(Duration initial, Duration max) {
  public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));

  public Backoff {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "backoff needs 0 < initial <= max, got " + initial + ", " + max);
    }
  }

  /** Wait before retry number {@code attempt} (0 for the first retry). */
  public Duration delay(int attempt, RandomGenerator random) {
    long cap = max.toMillis();
    long base = initial.toMillis() << Math.min(attempt, 30);
    long ceiling = base <= 0 || base > cap ? cap : base;
    return Duration.ofMillis((long) (ceiling * (0.8 + 0.2 * random.nextDouble())));
  }
}
