package dev.meshwork.ca.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.TestCa;
import java.security.KeyPair;
import java.security.cert.CertPathValidatorException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificatesTest {
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private final CaGeneration ca =
      Certificates.newGeneration("cluster.local", NOW, Duration.ofDays(3650), Duration.ofDays(365));

  @Test
  void rootIsSelfSignedCaWithPathLengthOneForTenYears() throws Exception {
    X509Certificate root = ca.root();
    root.verify(root.getPublicKey());
    assertThat(root.getBasicConstraints()).isEqualTo(1);
    assertThat(root.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(root.getKeyUsage()[6]).as("cRLSign").isTrue();
    assertThat(root.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
    assertThat(Duration.between(root.getNotBefore().toInstant(), root.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofDays(3650));
    assertThat(root.getSigAlgName()).isEqualTo("SHA384withECDSA");
  }

  @Test
  void intermediateIsCaWithPathLengthZeroSignedByRootForOneYear() throws Exception {
    X509Certificate intermediate = ca.intermediate();
    intermediate.verify(ca.root().getPublicKey());
    assertThat(intermediate.getBasicConstraints()).isZero();
    assertThat(intermediate.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(intermediate.getIssuerX500Principal())
        .isEqualTo(ca.root().getSubjectX500Principal());
    assertThat(intermediate.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(365)));
    assertThat(KeyPairs.isP256(intermediate.getPublicKey())).isTrue();
  }

  @Test
  void workloadCertificateIsAnX509SvidWithOnlyTheSpiffeUri() throws Exception {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    SpiffeId id = SpiffeId.of("shop", "checkout");
    X509Certificate leaf =
        Certificates.workload(ca, keys.getPublic(), id.uri(), NOW, Duration.ofHours(24));

    Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
    assertThat(sans).containsExactly(List.of(6, "spiffe://cluster.local/ns/shop/sa/checkout"));
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getCriticalExtensionOIDs())
        .contains("2.5.29.17"); // SAN critical: empty subject
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    boolean[] ku = leaf.getKeyUsage();
    assertThat(ku[0]).as("digitalSignature").isTrue();
    assertThat(ku[5] || ku[6]).as("keyCertSign/cRLSign forbidden by X.509-SVID").isFalse();
    assertThat(leaf.getExtendedKeyUsage())
        .containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(24)));
    assertThat(leaf.getNotBefore().toInstant()).isEqualTo(NOW.minus(Certificates.BACKDATE));
    assertThat(leaf.getPublicKey()).isEqualTo(keys.getPublic());

    TestCa.pkixValidate(List.of(leaf, ca.intermediate()), List.of(ca.root()), Date.from(NOW));
  }

  @Test
  void leafNeverOutlivesItsIntermediate() {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    Instant late = NOW.plus(Duration.ofDays(364));
    X509Certificate leaf =
        Certificates.workload(
            ca, keys.getPublic(), "spiffe://cluster.local/ns/a/sa/b", late, Duration.ofDays(7));
    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(ca.intermediateNotAfter());
  }

  @Test
  void chainFromAnotherCaDoesNotValidate() {
    CaGeneration other =
        Certificates.newGeneration("cluster.local", NOW, Duration.ofDays(10), Duration.ofDays(5));
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    X509Certificate leaf =
        Certificates.workload(
            other, keys.getPublic(), "spiffe://cluster.local/ns/a/sa/b", NOW, Duration.ofHours(1));
    assertThatThrownBy(
            () ->
                TestCa.pkixValidate(
                    List.of(leaf, other.intermediate()), List.of(ca.root()), Date.from(NOW)))
        .isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void servingCertificateCarriesDnsNamesAndCommonName() throws Exception {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    X509Certificate leaf =
        Certificates.serving(
            ca,
            keys.getPublic(),
            List.of("a.b.svc", "a.b.svc.cluster.local"),
            NOW,
            Duration.ofDays(30));
    assertThat(leaf.getSubjectAlternativeNames())
        .containsExactly(List.of(2, "a.b.svc"), List.of(2, "a.b.svc.cluster.local"));
    assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=a.b.svc");
    TestCa.pkixValidate(List.of(leaf, ca.intermediate()), List.of(ca.root()), Date.from(NOW));
  }
}
