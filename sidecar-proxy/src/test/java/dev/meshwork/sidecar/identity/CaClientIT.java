package dev.meshwork.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.SpiffeId;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sidecar's CA client against a CSR service over grpc-java TLS on loopback. */
class CaClientIT {
  private static final SpiffeId CART = SpiffeId.of("shop", "cart");
  @TempDir Path dir;
  private final TestPki pki = new TestPki("mesh");
  private FakeCa ca;

  @AfterEach
  void stop() throws Exception {
    if (ca != null) {
      ca.stop();
    }
  }

  private CaClient client(int port, SpiffeId identity, String token) throws Exception {
    Path roots = dir.resolve("ca-root.pem");
    Files.writeString(roots, FakeCa.pem(pki.root));
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, token + "\n");
    return new CaClient(
        new CaClient.Config(
            "127.0.0.1:" + port,
            FakeCa.AUTHORITY,
            roots,
            tokenFile,
            identity,
            Duration.ZERO,
            Duration.ofSeconds(5)),
        Clock.systemUTC());
  }

  @Test
  void obtainsACertificateForItsOwnKeyWithTheTokenFromTheFile() throws Exception {
    ca = new FakeCa(pki, Map.of("cart-token", CART), 3600).start(0);
    try (CaClient client = client(ca.port(), CART, "cart-token")) {
      var keys = WorkloadCsrs.newKeyPair();
      WorkloadIdentity identity = client.issue(keys);
      assertThat(identity.id()).isEqualTo(CART);
      assertThat(identity.leaf().getPublicKey()).isEqualTo(keys.getPublic());
      assertThat(identity.key()).isSameAs(keys.getPrivate());
      assertThat(identity.trustBundle()).containsExactly(pki.root);
      assertThat(ca.seenTokens).containsExactly("cart-token");
      assertThat(identity.toString()).contains(CART.uri()).doesNotContainIgnoringCase("private");
    }
  }

  @Test
  void overAChannelOwnedElsewhereItIssuesAndLeavesThatChannelOpen() throws Exception {
    ca = new FakeCa(pki, Map.of("cart-token", CART), 3600).start(0);
    Path roots = dir.resolve("shared-root.pem");
    Files.writeString(roots, FakeCa.pem(pki.root));
    ManagedChannel xds =
        NettyChannelBuilder.forAddress("127.0.0.1", ca.port())
            .sslContext(GrpcSslContexts.forClient().trustManager(roots.toFile()).build())
            .overrideAuthority(FakeCa.AUTHORITY)
            .build();
    try {
      try (CaClient client = new CaClient(sharedConfig(roots), xds, Clock.systemUTC())) {
        assertThat(client.issue(WorkloadCsrs.newKeyPair()).id()).isEqualTo(CART);
      }
      assertThat(xds.isShutdown()).as("the owner closes its channel, not the CA client").isFalse();
      try (CaClient again = new CaClient(sharedConfig(roots), xds, Clock.systemUTC())) {
        assertThat(again.issue(WorkloadCsrs.newKeyPair()).id()).isEqualTo(CART);
      }
      assertThat(ca.seenTokens).containsExactly("cart-token", "cart-token");
    } finally {
      xds.shutdownNow();
    }
  }

  private CaClient.Config sharedConfig(Path roots) throws Exception {
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, "cart-token\n");
    return new CaClient.Config(
        "127.0.0.1:" + ca.port(),
        FakeCa.AUTHORITY,
        roots,
        tokenFile,
        CART,
        Duration.ZERO,
        Duration.ofSeconds(5));
  }

  @Test
  void askingForAnotherIdentityIsRefusedAndNotRetryable() throws Exception {
    ca = new FakeCa(pki, Map.of("cart-token", CART), 3600).start(0);
    try (CaClient client = client(ca.port(), SpiffeId.of("shop", "payments"), "cart-token")) {
      assertThatThrownBy(() -> client.issue(WorkloadCsrs.newKeyPair()))
          .isInstanceOfSatisfying(IssuanceException.class, e -> assertThat(e.retryable()).isFalse())
          .hasMessageContaining("PERMISSION_DENIED");
    }
  }

  @Test
  void caServedWithACertificateFromAnotherRootIsNotTrusted() throws Exception {
    ca = new FakeCa(new TestPki("rogue"), Map.of("cart-token", CART), 3600).start(0);
    try (CaClient client = client(ca.port(), CART, "cart-token")) {
      assertThatThrownBy(() -> client.issue(WorkloadCsrs.newKeyPair()))
          .isInstanceOfSatisfying(IssuanceException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessageContaining("UNAVAILABLE");
      assertThat(ca.seenTokens).as("the token is never sent to an untrusted server").isEmpty();
    }
  }

  @Test
  void followsTheMountedRootFileWhenTheCaMovesToANewRoot() throws Exception {
    ca = new FakeCa(pki, Map.of("cart-token", CART), 3600).start(0);
    int port = ca.port();
    try (CaClient client = client(port, CART, "cart-token")) {
      assertThat(client.issue(WorkloadCsrs.newKeyPair()).id()).isEqualTo(CART);
      ca.stop();
      TestPki next = new TestPki("mesh-next");
      ca = new FakeCa(next, Map.of("cart-token", CART), 3600).start(port);
      assertThatThrownBy(() -> client.issue(WorkloadCsrs.newKeyPair()))
          .isInstanceOf(IssuanceException.class);
      // The kubelet updates the mounted bundle: both roots during the rotation.
      Files.writeString(dir.resolve("ca-root.pem"), FakeCa.pem(pki.root) + FakeCa.pem(next.root));
      assertThat(client.issue(WorkloadCsrs.newKeyPair()).trustBundle()).containsExactly(next.root);
    }
  }

  @Test
  void caRestartKeepsTheCurrentCertificateAndRenewalRetriesWithBackoffUntilItIsBack()
      throws Exception {
    ca = new FakeCa(pki, Map.of("cart-token", CART), 8).start(0);
    int port = ca.port();
    try (CaClient client = client(port, CART, "cart-token");
        RotatingCertificateSource source =
            new RotatingCertificateSource(
                client,
                RenewalSchedule.DEFAULT,
                new Backoff(Duration.ofMillis(100), Duration.ofMillis(800)),
                Clock.systemUTC(),
                new Random(3))) {
      List<WorkloadIdentity> delivered = new CopyOnWriteArrayList<>();
      source.addListener(delivered::add);
      source.start();
      WorkloadIdentity first = source.awaitReady(Duration.ofSeconds(10)).orElseThrow();

      ca.stop(); // CA process goes away before the renewal point (3.2-4.8s after notBefore)
      Thread.sleep(5000); // past the renewal point: renewal attempts fail meanwhile
      assertThat(delivered).containsExactly(first);
      assertThat(source.current()).containsSame(first);

      // A new CA process with the same stored root comes back on the same address.
      assertThat(first.notAfter()).isAfter(java.time.Instant.now()); // still valid, still served
      ca = new FakeCa(pki, Map.of("cart-token", CART), 8).start(port);
      await().atMost(Duration.ofSeconds(10)).until(() -> delivered.size() >= 2);
      WorkloadIdentity renewed = delivered.get(1);
      assertThat(renewed.id()).isEqualTo(CART);
      assertThat(source.current()).containsSame(delivered.getLast());
      // Same root before and after: certificates from both processes verify against either bundle.
      var verifier = new SpiffePeerVerifier("cluster.local", Clock.systemUTC());
      assertThat(
              verifier.verify(
                  renewed.chain(),
                  first.trustBundle(),
                  SpiffePeerVerifier.PeerRole.CLIENT,
                  id -> true))
          .isEqualTo(CART);
    }
  }

  /** The sidecar's ADS channel trust: grpc-java TLS over {@link ReloadingRootsTrustManager}. */
  private static int callWithReloadingTrust(TrustBundleFile roots, int port, String authority)
      throws Exception {
    var ssl =
        io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forClient()
            .trustManager(new ReloadingRootsTrustManager(roots))
            .build();
    io.grpc.ManagedChannel channel =
        io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", port)
            .sslContext(ssl)
            .overrideAuthority(authority)
            .build();
    try {
      io.grpc.Metadata headers = new io.grpc.Metadata();
      headers.put(
          io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER),
          "Bearer cart-token");
      return dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS)
          .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
          .createCertificate(
              dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest.newBuilder()
                  .setCsrPem(WorkloadCsrs.csrPem(WorkloadCsrs.newKeyPair(), CART))
                  .build())
          .getCertChainPemCount();
    } finally {
      channel.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void controlPlaneChannelFollowsTheMountedRootsAndStillChecksTheHostName() throws Exception {
    TestPki next = new TestPki("mesh-next");
    ca = new FakeCa(next, Map.of("cart-token", CART), 3600).start(0);
    Path roots = dir.resolve("roots.pem");
    Files.writeString(roots, FakeCa.pem(pki.root));
    TrustBundleFile bundle = TrustBundleFile.readOnce(roots);
    // The control plane already serves under the new root; the pod's bundle is not updated yet.
    assertThatThrownBy(() -> callWithReloadingTrust(bundle, ca.port(), FakeCa.AUTHORITY))
        .isInstanceOf(io.grpc.StatusRuntimeException.class);
    Files.writeString(roots, FakeCa.pem(pki.root) + FakeCa.pem(next.root));
    bundle.reload();
    assertThat(callWithReloadingTrust(bundle, ca.port(), FakeCa.AUTHORITY)).isEqualTo(2);
    assertThatThrownBy(() -> callWithReloadingTrust(bundle, ca.port(), "impostor.test"))
        .as("host name still checked")
        .isInstanceOf(io.grpc.StatusRuntimeException.class);
  }
}
