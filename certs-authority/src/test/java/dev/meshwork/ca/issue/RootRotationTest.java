package dev.meshwork.ca.issue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.TestCa;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.WorkloadCsr;
import dev.meshwork.ca.store.CaStateCodec;
import dev.meshwork.ca.store.InMemoryCaStore;
import java.security.cert.CertPathValidatorException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

class RootRotationTest {
  private Instant now = Instant.parse("2026-03-01T00:00:00Z");
  private final Clock clock =
      new Clock() {
        @Override
        public Instant instant() {
          return now;
        }

        @Override
        public java.time.ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }
      };

  private IssuedCertificate issue(CertificateAuthority ca) {
    return ca.issueWorkload(
        WorkloadCsr.parse(
            Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P256), SpiffeId.of("a", "b"))),
        Duration.ZERO);
  }

  @Test
  void rotationTrustsBothRootsDuringOverlapThenRetiresTheOld() throws Exception {
    InMemoryCaStore store = new InMemoryCaStore();
    CertificateAuthority ca = CertificateAuthority.start(CaConfig.defaults(), store, clock);
    List<List<X509Certificate>> published = new ArrayList<>();
    ca.addTrustBundleListener(published::add);
    X509Certificate oldRoot = ca.activeGeneration().root();
    IssuedCertificate oldLeaf = issue(ca);

    now = now.plusSeconds(60);
    ca.rotateRoot();
    X509Certificate newRoot = ca.activeGeneration().root();
    assertThat(newRoot).isNotEqualTo(oldRoot);
    assertThat(ca.trustBundle()).containsExactly(newRoot, oldRoot);
    assertThat(published).last().isEqualTo(List.of(newRoot, oldRoot));
    // The rotation is persisted: a restart sees both roots.
    assertThat(CaStateCodec.decode(store.load().orElseThrow(), "memory").trustBundle())
        .containsExactly(newRoot, oldRoot);

    IssuedCertificate newLeaf = issue(ca);
    assertThat(newLeaf.trustBundle()).containsExactly(newRoot, oldRoot);
    // Both generations' leaves verify against the overlap bundle.
    TestCa.pkixValidate(oldLeaf.chain(), ca.trustBundle(), Date.from(now));
    TestCa.pkixValidate(newLeaf.chain(), ca.trustBundle(), Date.from(now));
    assertThatThrownBy(() -> TestCa.pkixValidate(newLeaf.chain(), List.of(oldRoot), Date.from(now)))
        .isInstanceOf(CertPathValidatorException.class);

    now = now.plus(Duration.ofDays(7));
    ca.maintain();
    assertThat(ca.trustBundle()).containsExactly(newRoot, oldRoot); // overlap (8 days) not over

    now = now.plus(Duration.ofDays(1)).plusSeconds(1);
    ca.maintain();
    assertThat(ca.trustBundle()).containsExactly(newRoot);
    assertThat(published).last().isEqualTo(List.of(newRoot));
  }

  @Test
  void overlapOutlastsTheLongestLeafSoNoLeafOutlivesItsRootInTheBundle() {
    CaConfig config = CaConfig.defaults();
    assertThat(config.rootOverlap()).isGreaterThan(config.maxWorkloadTtl());
  }

  @Test
  void intermediateIsRenewedNearItsEndUnderTheSameRoot() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.start(CaConfig.defaults(), new InMemoryCaStore(), clock);
    X509Certificate root = ca.activeGeneration().root();
    X509Certificate firstIntermediate = ca.activeGeneration().intermediate();
    now = now.plus(Duration.ofDays(200));
    ca.maintain();
    assertThat(ca.activeGeneration().intermediate()).isEqualTo(firstIntermediate);
    now = now.plus(Duration.ofDays(80)); // 85 days left < a quarter of 365
    ca.maintain();
    assertThat(ca.activeGeneration().intermediate()).isNotEqualTo(firstIntermediate);
    assertThat(ca.trustBundle()).containsExactly(root);
    TestCa.pkixValidate(issue(ca).chain(), List.of(root), Date.from(now));
  }

  @Test
  void requestedLifetimeIsClampedToTheConfiguredBounds() {
    CertificateAuthority ca =
        CertificateAuthority.start(
            CaConfig.defaults().withDefaultWorkloadTtl(Duration.ofHours(12)),
            new InMemoryCaStore(),
            clock);
    var csr =
        WorkloadCsr.parse(
            Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P256), SpiffeId.of("a", "b")));
    assertThat(lifetime(ca.issueWorkload(csr, Duration.ZERO))).isEqualTo(Duration.ofHours(12));
    assertThat(lifetime(ca.issueWorkload(csr, Duration.ofDays(30)))).isEqualTo(Duration.ofDays(7));
    assertThat(lifetime(ca.issueWorkload(csr, Duration.ofMinutes(10))))
        .isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void refusesIdentitiesOfAnotherTrustDomain() {
    CertificateAuthority ca = TestCa.inMemory();
    var csr =
        WorkloadCsr.parse(
            Csrs.workloadCsrPem(
                KeyPairs.generate(KeyPairs.P256), new SpiffeId("other.domain", "a", "b")));
    assertThatThrownBy(() -> ca.issueWorkload(csr, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("outside trust domain cluster.local");
  }

  private Duration lifetime(IssuedCertificate issued) {
    return Duration.between(now, issued.leaf().getNotAfter().toInstant());
  }
}
