package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.SpiffeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mounted trust bundle: follows the file, keeps the last good roots on a bad write. */
class TrustBundleFileTest {
  private final TestPki first = new TestPki("first");
  private final TestPki second = new TestPki("second");

  @Test
  void followsTheFileThroughARotationAndKeepsTheLastGoodBundleOnABadWrite(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("root-cert.pem");
    Files.writeString(file, FakeCa.pem(first.root));
    try (TrustBundleFile bundle = TrustBundleFile.watch(file, Duration.ofMillis(50))) {
      assertThat(bundle.get()).containsExactly(first.root);

      Files.writeString(file, FakeCa.pem(first.root) + FakeCa.pem(second.root));
      await().atMost(Duration.ofSeconds(5)).until(() -> bundle.get().size() == 2);
      assertThat(bundle.get()).containsExactly(first.root, second.root);

      Files.writeString(file, "-----BEGIN CERTIFICATE-----\nnot base64\n");
      assertThat(bundle.reload()).isFalse();
      Files.writeString(file, "");
      assertThat(bundle.reload()).isFalse();
      Files.delete(file);
      assertThat(bundle.reload()).isFalse();
      assertThat(bundle.get()).as("last good bundle kept").containsExactly(first.root, second.root);

      Files.writeString(file, FakeCa.pem(second.root));
      await().atMost(Duration.ofSeconds(5)).until(() -> bundle.get().equals(List.of(second.root)));
    }
  }

  @Test
  void aMissingFileTrustsNothingUntilItAppears(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("root-cert.pem");
    TrustBundleFile bundle = TrustBundleFile.readOnce(file);
    assertThat(bundle.get()).isEmpty();
    Files.writeString(file, FakeCa.pem(first.root));
    assertThat(bundle.reload()).isTrue();
    assertThat(bundle.get()).containsExactly(first.root);
  }

  @Test
  void theTrustManagerPrefersTheMountedBundleOverTheIdentitysOnce(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("root-cert.pem");
    var verifier = new SpiffePeerVerifier("cluster.local", java.time.Clock.systemUTC());
    var source = new MutualTlsRotationIT.MutableSource(first.identity(SpiffeId.of("a", "b"), 60));
    TrustBundleFile bundle = TrustBundleFile.readOnce(file);
    var trust = SpiffeTrustManager.forSource(source, bundle, verifier, id -> true);
    assertThat(trust.getAcceptedIssuers())
        .as("no file yet: the CSR answer's roots")
        .containsExactly(first.root);
    Files.writeString(file, FakeCa.pem(second.root));
    bundle.reload();
    assertThat(trust.getAcceptedIssuers()).containsExactly(second.root);
  }

  @Test
  void theControlPlaneChannelsTrustManagerFollowsTheFileToANewRoot(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("root-cert.pem");
    Files.writeString(file, FakeCa.pem(first.root));
    TrustBundleFile bundle = TrustBundleFile.readOnce(file);
    var trust = new ReloadingRootsTrustManager(bundle);
    var keys = WorkloadCsrs.newKeyPair();
    var underFirst = first.serving(keys.getPublic(), "cp.test").toArray(X509Certificate[]::new);
    var underSecond = second.serving(keys.getPublic(), "cp.test").toArray(X509Certificate[]::new);
    trust.checkServerTrusted(underFirst, "ECDHE_ECDSA");
    assertThatThrownBy(() -> trust.checkServerTrusted(underSecond, "ECDHE_ECDSA"))
        .isInstanceOf(CertificateException.class);
    // The control plane's certificate moves to the new root during a rotation.
    Files.writeString(file, FakeCa.pem(first.root) + FakeCa.pem(second.root));
    bundle.reload();
    trust.checkServerTrusted(underSecond, "ECDHE_ECDSA");
    trust.checkServerTrusted(underFirst, "ECDHE_ECDSA");
  }
}
