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
  void rotationPublishesTheNewRootBeforeItSignsThenRetiresTheOldAfterTheOverlap() throws Exception {
    InMemoryCaStore store = new InMemoryCaStore();
    CertificateAuthority ca = CertificateAuthority.start(CaConfig.defaults(), store, clock);
    List<List<X509Certificate>> published = new ArrayList<>();
    ca.addTrustBundleListener(published::add);
    X509Certificate oldRoot = ca.activeGeneration().root();
    IssuedCertificate oldLeaf = issue(ca);

    // Phase 1: the new root is trusted everywhere, the old generation still signs.
    now = now.plusSeconds(60);
    ca.rotateRoot();
    assertThat(ca.trustBundle()).hasSize(2).startsWith(oldRoot);
    X509Certificate newRoot = ca.trustBundle().get(1);
    assertThat(published).last().isEqualTo(List.of(oldRoot, newRoot));
    IssuedCertificate duringPropagation = issue(ca);
    assertThat(duringPropagation.trustBundle()).containsExactly(oldRoot, newRoot);
    // A peer that has not renewed yet (it only knows the old root) still accepts this leaf.
    TestCa.pkixValidate(duringPropagation.chain(), List.of(oldRoot), Date.from(now));
    assertThatThrownBy(ca::rotateRoot)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("under way");
    // The pending generation survives a restart.
    CertificateAuthority restarted = CertificateAuthority.start(CaConfig.defaults(), store, clock);
    assertThat(restarted.trustBundle()).containsExactly(oldRoot, newRoot);

    now = now.plus(Duration.ofDays(7));
    ca.maintain();
    assertThat(ca.activeGeneration().root()).isEqualTo(oldRoot); // propagation (8 days) not over

    // Phase 2: the new generation signs; the old root stays trusted for the overlap.
    now = now.plus(Duration.ofDays(1));
    ca.maintain();
    assertThat(ca.activeGeneration().root()).isEqualTo(newRoot);
    assertThat(ca.trustBundle()).containsExactly(newRoot, oldRoot);
    IssuedCertificate newLeaf = issue(ca);
    TestCa.pkixValidate(newLeaf.chain(), List.of(newRoot), Date.from(now));
    assertThatThrownBy(() -> TestCa.pkixValidate(newLeaf.chain(), List.of(oldRoot), Date.from(now)))
        .isInstanceOf(CertPathValidatorException.class);
    TestCa.pkixValidate(
        oldLeaf.chain(),
        ca.trustBundle(),
        Date.from(oldLeaf.leaf().getNotBefore().toInstant().plusSeconds(120)));
    assertThat(CaStateCodec.decode(store.load().orElseThrow(), "memory").trustBundle())
        .containsExactly(newRoot, oldRoot);

    now = now.plus(Duration.ofDays(8)).plusSeconds(1);
    ca.maintain();
    assertThat(ca.trustBundle()).containsExactly(newRoot);
    assertThat(published).last().isEqualTo(List.of(newRoot));
  }

  @Test
  void followerReplicaAdoptsTheLeadersRotationFromTheStore() {
    InMemoryCaStore shared = new InMemoryCaStore();
    CertificateAuthority leader = CertificateAuthority.start(CaConfig.defaults(), shared, clock);
    CertificateAuthority follower = CertificateAuthority.start(CaConfig.defaults(), shared, clock);
    List<List<X509Certificate>> followerBundles = new ArrayList<>();
    follower.addTrustBundleListener(followerBundles::add);
    assertThat(follower.reload()).as("nothing new").isFalse();

    leader.rotateRoot();
    assertThat(follower.reload()).isTrue();
    assertThat(follower.trustBundle()).isEqualTo(leader.trustBundle()).hasSize(2);
    assertThat(followerBundles).last().isEqualTo(leader.trustBundle());

    now = now.plus(Duration.ofDays(9));
    leader.maintain();
    follower.reload();
    assertThat(follower.activeGeneration().intermediate())
        .isEqualTo(leader.activeGeneration().intermediate());
  }

  @Test
  void propagationOutlastsTheLongestLeafSoEveryWorkloadHasTheNewRootBeforeItSigns() {
    CaConfig config = CaConfig.defaults();
    assertThat(config.rootPropagation()).isGreaterThan(config.maxWorkloadTtl());
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
