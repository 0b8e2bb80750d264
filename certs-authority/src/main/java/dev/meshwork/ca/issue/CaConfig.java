package dev.meshwork.ca.issue;

import dev.meshwork.api.MeshConstants;
import java.time.Duration;
import java.util.Objects;

/**
 * Static settings of the CA.
 *
 * @param trustDomain SPIFFE trust domain; a CSR for another one is refused
 * @param defaultWorkloadTtl lifetime of a workload certificate when the caller asks for none (24h)
 * @param maxWorkloadTtl the longest lifetime the CA grants; longer requests are shortened
 * @param minWorkloadTtl the shortest lifetime the CA grants; shorter requests are lengthened
 * @param rootValidity lifetime of a generated root (10 years)
 * @param intermediateValidity lifetime of a generated intermediate (1 year)
 * @param rootOverlap how long an old root stays trusted after the new one starts signing; must
 *     exceed the longest leaf lifetime so every leaf signed under the old root expires first
 * @param rootPropagation how long a new root is trusted before it signs; must exceed the longest
 *     leaf lifetime so every workload has renewed (and received the new root) before it meets a
 *     leaf under the new root
 */
public record CaConfig(
    String trustDomain,
    Duration defaultWorkloadTtl,
    Duration maxWorkloadTtl,
    Duration minWorkloadTtl,
    Duration rootValidity,
    Duration intermediateValidity,
    Duration rootOverlap,
    Duration rootPropagation) {

  public CaConfig {
    Objects.requireNonNull(trustDomain, "trustDomain");
    requirePositive(defaultWorkloadTtl, "defaultWorkloadTtl");
    requirePositive(maxWorkloadTtl, "maxWorkloadTtl");
    requirePositive(minWorkloadTtl, "minWorkloadTtl");
    requirePositive(rootValidity, "rootValidity");
    requirePositive(intermediateValidity, "intermediateValidity");
    requirePositive(rootOverlap, "rootOverlap");
    requirePositive(rootPropagation, "rootPropagation");
    if (defaultWorkloadTtl.compareTo(maxWorkloadTtl) > 0) {
      throw new IllegalArgumentException(
          "defaultWorkloadTtl " + defaultWorkloadTtl + " exceeds maxWorkloadTtl " + maxWorkloadTtl);
    }
    if (minWorkloadTtl.compareTo(defaultWorkloadTtl) > 0) {
      throw new IllegalArgumentException(
          "minWorkloadTtl " + minWorkloadTtl + " exceeds defaultWorkloadTtl " + defaultWorkloadTtl);
    }
  }

  /** Defaults: trust domain cluster.local, 24h leaves (max 7 days), 10y root, 1y intermediate. */
  public static CaConfig defaults() {
    return new CaConfig(
        MeshConstants.DEFAULT_TRUST_DOMAIN,
        Duration.ofHours(24),
        Duration.ofDays(7),
        Duration.ofSeconds(1),
        Duration.ofDays(3650),
        Duration.ofDays(365),
        Duration.ofDays(8),
        Duration.ofDays(8));
  }

  public CaConfig withTrustDomain(String value) {
    return new CaConfig(
        value,
        defaultWorkloadTtl,
        maxWorkloadTtl,
        minWorkloadTtl,
        rootValidity,
        intermediateValidity,
        rootOverlap,
        rootPropagation);
  }

  public CaConfig withDefaultWorkloadTtl(Duration value) {
    return new CaConfig(
        trustDomain,
        value,
        maxWorkloadTtl,
        minWorkloadTtl,
        rootValidity,
        intermediateValidity,
        rootOverlap,
        rootPropagation);
  }

  public CaConfig withRootOverlap(Duration value) {
    return new CaConfig(
        trustDomain,
        defaultWorkloadTtl,
        maxWorkloadTtl,
        minWorkloadTtl,
        rootValidity,
        intermediateValidity,
        value,
        rootPropagation);
  }

  public CaConfig withRootPropagation(Duration value) {
    return new CaConfig(
        trustDomain,
        defaultWorkloadTtl,
        maxWorkloadTtl,
        minWorkloadTtl,
        rootValidity,
        intermediateValidity,
        rootOverlap,
        value);
  }

  /** Lifetime granted for a request of {@code requested} (zero or negative: the default). */
  public Duration grantedTtl(Duration requested) {
    if (requested.isZero() || requested.isNegative()) {
      return defaultWorkloadTtl;
    }
    if (requested.compareTo(maxWorkloadTtl) > 0) {
      return maxWorkloadTtl;
    }
    return requested.compareTo(minWorkloadTtl) < 0 ? minWorkloadTtl : requested;
  }

  private static void requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
  }
}
