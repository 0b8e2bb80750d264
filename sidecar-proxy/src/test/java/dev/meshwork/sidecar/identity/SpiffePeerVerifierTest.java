package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.sidecar.identity.SpiffePeerVerifier.PeerRole;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SpiffePeerVerifierTest {
  private static final SpiffeId CART = SpiffeId.of("shop", "cart");
  private final TestPki pki = new TestPki("mesh");
  private final SpiffePeerVerifier verifier =
      new SpiffePeerVerifier("cluster.local", Clock.systemUTC());

  private List<X509Certificate> chain(String uri, Instant notBefore, Instant notAfter) {
    KeyPair keys = WorkloadCsrs.newKeyPair();
    return List.of(pki.leaf(keys.getPublic(), uri, notBefore, notAfter), pki.intermediate);
  }

  private List<X509Certificate> valid(String uri) {
    return chain(uri, Instant.now().minusSeconds(10), Instant.now().plusSeconds(3600));
  }

  @Test
  void validChainYieldsThePeersSpiffeIdOnBothSides() throws Exception {
    assertThat(verifier.verify(valid(CART.uri()), pki.bundle(), PeerRole.CLIENT, id -> true))
        .isEqualTo(CART);
    assertThat(
            verifier.verify(
                valid(CART.uri()),
                pki.bundle(),
                PeerRole.SERVER,
                SpiffePeerVerifier.anyOf(Set.of(CART))))
        .isEqualTo(CART);
  }

  @Test
  void expiredPeerCertificateIsRejected() {
    var expired =
        chain(CART.uri(), Instant.now().minusSeconds(7200), Instant.now().minusSeconds(60));
    assertThatThrownBy(() -> verifier.verify(expired, pki.bundle(), PeerRole.CLIENT, id -> true))
        .isInstanceOf(PeerVerificationException.class)
        .hasMessageContaining("peer chain rejected");
  }

  @Test
  void notYetValidPeerCertificateIsRejected() {
    var future =
        chain(CART.uri(), Instant.now().plusSeconds(3600), Instant.now().plusSeconds(7200));
    assertThatThrownBy(() -> verifier.verify(future, pki.bundle(), PeerRole.CLIENT, id -> true))
        .isInstanceOf(PeerVerificationException.class);
  }

  @Test
  void chainSignedByAnotherCaIsRejected() {
    TestPki rogue = new TestPki("rogue");
    KeyPair keys = WorkloadCsrs.newKeyPair();
    var forged =
        List.of(
            rogue.leaf(
                keys.getPublic(),
                CART.uri(),
                Instant.now().minusSeconds(10),
                Instant.now().plusSeconds(3600)),
            rogue.intermediate);
    assertThatThrownBy(() -> verifier.verify(forged, pki.bundle(), PeerRole.CLIENT, id -> true))
        .isInstanceOf(PeerVerificationException.class)
        .hasMessageContaining("peer chain rejected");
    // Sending the rogue root along does not help: anchors come from our bundle only.
    var withRoot = List.of(forged.get(0), forged.get(1), rogue.root);
    assertThatThrownBy(() -> verifier.verify(withRoot, pki.bundle(), PeerRole.CLIENT, id -> true))
        .isInstanceOf(PeerVerificationException.class);
  }

  @Test
  void leafSignedDirectlyWithTheWrongKeyIsRejected() throws Exception {
    // Right issuer name, wrong signature: the intermediate's name but another key signed it.
    TestPki impostor = new TestPki("mesh");
    KeyPair keys = WorkloadCsrs.newKeyPair();
    var chain =
        List.of(
            impostor.leaf(
                keys.getPublic(),
                CART.uri(),
                Instant.now().minusSeconds(10),
                Instant.now().plusSeconds(3600)),
            pki.intermediate);
    assertThatThrownBy(() -> verifier.verify(chain, pki.bundle(), PeerRole.CLIENT, id -> true))
        .isInstanceOf(PeerVerificationException.class);
  }

  @Test
  void otherTrustDomainOrUnacceptedIdentityIsRejected() {
    assertThatThrownBy(
            () ->
                verifier.verify(
                    valid("spiffe://evil.org/ns/shop/sa/cart"),
                    pki.bundle(),
                    PeerRole.CLIENT,
                    id -> true))
        .isInstanceOf(PeerVerificationException.class)
        .hasMessageContaining("outside trust domain cluster.local");
    assertThatThrownBy(
            () ->
                verifier.verify(
                    valid(CART.uri()),
                    pki.bundle(),
                    PeerRole.SERVER,
                    SpiffePeerVerifier.anyOf(Set.of(SpiffeId.of("shop", "payments")))))
        .isInstanceOf(PeerVerificationException.class)
        .hasMessageContaining("not an accepted identity");
  }

  @Test
  void certificateWithoutSpiffeUriIsRejected() {
    assertThatThrownBy(
            () ->
                verifier.verify(
                    valid("https://example.com/cart"), pki.bundle(), PeerRole.CLIENT, id -> true))
        .isInstanceOf(PeerVerificationException.class)
        .hasMessageContaining("not a SPIFFE ID");
    assertThatThrownBy(() -> verifier.verify(List.of(), pki.bundle(), PeerRole.CLIENT, id -> true))
        .isInstanceOf(PeerVerificationException.class)
        .hasMessageContaining("no certificate");
  }

  @Test
  void bothRootsOfARotationOverlapAreAccepted() throws Exception {
    TestPki next = new TestPki("mesh-2");
    KeyPair keys = WorkloadCsrs.newKeyPair();
    var newChain =
        List.of(
            next.leaf(
                keys.getPublic(),
                CART.uri(),
                Instant.now().minusSeconds(10),
                Instant.now().plusSeconds(3600)),
            next.intermediate);
    List<X509Certificate> overlap = List.of(next.root, pki.root);
    assertThat(verifier.verify(newChain, overlap, PeerRole.CLIENT, id -> true)).isEqualTo(CART);
    assertThat(verifier.verify(valid(CART.uri()), overlap, PeerRole.CLIENT, id -> true))
        .isEqualTo(CART);
  }
}
