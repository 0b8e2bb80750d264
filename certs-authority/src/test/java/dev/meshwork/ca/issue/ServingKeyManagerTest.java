package dev.meshwork.ca.issue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.ca.store.InMemoryCaStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServingKeyManagerTest {
  private static final List<String> NAMES =
      List.of("meshwork-control-plane.meshwork-system.svc", "localhost");

  @Test
  void renewsAtHalfLifeAndKeepsKeyAndChainPairedAcrossTheSwap() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.start(CaConfig.defaults(), new InMemoryCaStore(), Clock.systemUTC());
    ServingKeyManager keys = ServingKeyManager.issue(ca, NAMES, Duration.ofDays(30));
    String oldAlias = keys.chooseEngineServerAlias("EC", null, null);
    X509Certificate oldLeaf = keys.getCertificateChain(oldAlias)[0];

    assertThat(keys.renewIfDue(ca, Duration.ofDays(30), Instant.now().plus(Duration.ofDays(10))))
        .isFalse();
    assertThat(keys.renewIfDue(ca, Duration.ofDays(30), Instant.now().plus(Duration.ofDays(16))))
        .isTrue();

    String newAlias = keys.chooseEngineServerAlias("EC", null, null);
    X509Certificate newLeaf = keys.getCertificateChain(newAlias)[0];
    assertThat(newLeaf).isNotEqualTo(oldLeaf);
    assertThat(newLeaf.getSubjectAlternativeNames())
        .containsExactlyElementsOf(oldLeaf.getSubjectAlternativeNames());
    // A handshake that picked the old alias before the swap still gets the old pair.
    assertThat(keys.getCertificateChain(oldAlias)[0]).isEqualTo(oldLeaf);
    assertThat(keys.getPrivateKey(oldAlias)).isNotEqualTo(keys.getPrivateKey(newAlias));
  }

  @Test
  void renewsAsSoonAsARotatedRootStartsSigning() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.start(
            CaConfig.defaults().withRootPropagation(Duration.ofMillis(1)),
            new InMemoryCaStore(),
            Clock.systemUTC());
    ServingKeyManager keys = ServingKeyManager.issue(ca, NAMES, Duration.ofDays(30));
    ca.rotateRoot();
    assertThat(keys.renewIfDue(ca, Duration.ofDays(30), Instant.now()))
        .as("new root not signing yet")
        .isFalse();
    Thread.sleep(5);
    ca.maintain();
    assertThat(keys.renewIfDue(ca, Duration.ofDays(30), Instant.now())).isTrue();
    assertThat(keys.current().certificate().chain().get(1))
        .isEqualTo(ca.activeGeneration().intermediate());
  }
}
