package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RotatingCertificateSourceTest {
  private static final SpiffeId CART = SpiffeId.of("shop", "cart");
  private final TestPki pki = new TestPki("mesh");
  private final Backoff fastBackoff = new Backoff(Duration.ofMillis(50), Duration.ofMillis(400));

  private RotatingCertificateSource source(CertificateIssuer issuer) {
    return new RotatingCertificateSource(
        issuer, RenewalSchedule.DEFAULT, fastBackoff, Clock.systemUTC(), new Random(1));
  }

  @Test
  void notReadyUntilTheFirstCertificateThenRenewsAtAboutHalfLifeWithANewKey() throws Exception {
    List<Instant> issuedAt = new CopyOnWriteArrayList<>();
    CertificateIssuer issuer =
        keys -> {
          issuedAt.add(Instant.now());
          return pki.identity(keys, CART, 3); // valid 1s back to 3s ahead: renew ~1-1.4s from now
        };
    try (RotatingCertificateSource source = source(issuer)) {
      assertThat(source.isReady()).isFalse();
      assertThat(source.current()).isEmpty();
      List<WorkloadIdentity> delivered = new CopyOnWriteArrayList<>();
      List<Boolean> currentWasDelivered = new CopyOnWriteArrayList<>();
      source.addListener(
          identity -> {
            delivered.add(identity);
            // current() already returns what listeners are handed.
            currentWasDelivered.add(source.current().orElseThrow() == identity);
          });
      source.start();

      WorkloadIdentity first = source.awaitReady(Duration.ofSeconds(10)).orElseThrow();
      assertThat(source.isReady()).isTrue();
      assertThat(first.id()).isEqualTo(CART);

      await().atMost(Duration.ofSeconds(10)).until(() -> delivered.size() >= 2);
      WorkloadIdentity second = delivered.get(1);
      assertThat(second.leaf()).isNotEqualTo(first.leaf());
      assertThat(second.key()).as("a new key per renewal").isNotEqualTo(first.key());
      assertThat(currentWasDelivered).doesNotContain(false);
      // Renewed while the old certificate was still valid: no gap for the data path.
      assertThat(issuedAt.get(1)).isBefore(first.notAfter());
      Duration sinceFirst = Duration.between(first.notBefore(), issuedAt.get(1));
      assertThat(sinceFirst)
          .as("not before ~40% of the lifetime")
          .isGreaterThanOrEqualTo(Duration.ofMillis(1500));
    }
  }

  @Test
  void listenerAddedLateGetsTheCurrentIdentityAtOnce() throws Exception {
    try (RotatingCertificateSource source = source(keys -> pki.identity(keys, CART, 3600))) {
      source.start();
      WorkloadIdentity first = source.awaitReady(Duration.ofSeconds(10)).orElseThrow();
      List<WorkloadIdentity> got = new CopyOnWriteArrayList<>();
      source.addListener(got::add);
      assertThat(got).containsExactly(first);
    }
  }

  @Test
  void retriesWithGrowingBackoffWhileTheCaIsDownThenSucceeds() throws Exception {
    List<Instant> attempts = new CopyOnWriteArrayList<>();
    CertificateIssuer issuer =
        keys -> {
          attempts.add(Instant.now());
          if (attempts.size() <= 4) {
            throw new IssuanceException("CA down: UNAVAILABLE", true, null);
          }
          return pki.identity(keys, CART, 3600);
        };
    try (RotatingCertificateSource source = source(issuer)) {
      source.start();
      assertThat(source.awaitReady(Duration.ofSeconds(10))).isPresent();
      assertThat(attempts).hasSize(5);
      Duration firstGap = Duration.between(attempts.get(0), attempts.get(1));
      Duration lastGap = Duration.between(attempts.get(3), attempts.get(4));
      assertThat(firstGap).isBetween(Duration.ofMillis(35), Duration.ofMillis(1000));
      assertThat(lastGap)
          .as("backoff grows")
          .isGreaterThan(firstGap)
          .isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }
  }

  @Test
  void keepsTheCurrentCertificateWhileRenewalFails() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CertificateIssuer issuer =
        keys -> {
          if (calls.incrementAndGet() == 1) {
            return pki.identity(keys, CART, 3);
          }
          throw new IssuanceException("CA down: UNAVAILABLE", true, null);
        };
    try (RotatingCertificateSource source = source(issuer)) {
      source.start();
      WorkloadIdentity first = source.awaitReady(Duration.ofSeconds(10)).orElseThrow();
      await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() >= 4);
      assertThat(source.current()).containsSame(first);
      if (Instant.now().isBefore(first.notAfter())) {
        assertThat(source.isReady()).isTrue();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(first.notAfter()));
      assertThat(source.isReady()).as("an expired certificate is not ready").isFalse();
      assertThat(source.current()).containsSame(first);
    }
  }
}
