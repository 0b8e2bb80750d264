package dev.meshwork.controlplane.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.issue.IssuedCertificate;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.ca.pki.WorkloadCsr;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.xds.internal.security.trust.XdsTrustManagerFactory;
import io.grpc.xds.shaded.io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.grpc.xds.shaded.io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An independent TLS stack checks our workload certificates: grpc-java's xDS trust manager (the one
 * its xDS clients use for {@code match_subject_alt_names}) validates the chain of a server
 * presenting a CA-issued SPIFFE certificate against the mesh root and matches its URI SAN;
 * grpc-java's standard TLS server validates the client's workload certificate. Our own verifier
 * plays no part.
 */
class GrpcXdsVerifiesWorkloadCertificatesTest {
  private static final SpiffeId PAYMENTS = SpiffeId.of("shop", "payments");
  private static final SpiffeId CART = SpiffeId.of("shop", "cart");

  private EmbeddedCa ca;
  private Server server;

  private static ByteArrayInputStream stream(String pem) {
    return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
  }

  private record Workload(KeyPair keys, IssuedCertificate cert) {}

  private static Workload issue(EmbeddedCa ca, SpiffeId id) {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    return new Workload(
        keys,
        ca.authority()
            .issueWorkload(WorkloadCsr.parse(Csrs.workloadCsrPem(keys, id)), Duration.ZERO));
  }

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    Path tokens = dir.resolve("tokens.properties");
    Files.writeString(tokens, "t=shop/payments\n");
    ca = EmbeddedCa.local(dir.resolve("ca"), tokens, "cluster.local", CaMetrics.NOOP);
    Workload payments = issue(ca, PAYMENTS);
    var credentials =
        TlsServerCredentials.newBuilder()
            .keyManager(
                stream(String.join("", payments.cert().chainPem())),
                stream(Pem.encodePrivateKey(payments.keys().getPrivate())))
            .trustManager(stream(Pem.encodeAll(ca.authority().trustBundle())))
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
            .build();
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials)
            .addService(new HealthStatusManager().getHealthService())
            .build()
            .start();
  }

  @AfterEach
  void stop() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private HealthCheckResponse.ServingStatus call(
      List<X509Certificate> roots, SpiffeId expectedServer, Workload client) throws Exception {
    CertificateValidationContext validation =
        CertificateValidationContext.newBuilder()
            .addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(expectedServer.uri()))
            .build();
    var ssl =
        GrpcSslContexts.forClient()
            .trustManager(
                new XdsTrustManagerFactory(
                    roots.toArray(X509Certificate[]::new), validation, false))
            .keyManager(
                stream(String.join("", client.cert().chainPem())),
                stream(Pem.encodePrivateKey(client.keys().getPrivate())))
            .build();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
            .sslContext(ssl)
            .overrideAuthority("payments.shop.svc")
            .build();
    try {
      return HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance())
          .getStatus();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void grpcJavaAcceptsTheWorkloadChainAndItsSpiffeSanBothWays() throws Exception {
    assertThat(call(ca.authority().trustBundle(), PAYMENTS, issue(ca, CART)))
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void grpcJavaRefusesAServerWhoseSanIsNotTheExpectedIdentity() {
    assertThatThrownBy(
            () -> call(ca.authority().trustBundle(), SpiffeId.of("shop", "other"), issue(ca, CART)))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("UNAVAILABLE");
  }

  @Test
  void grpcJavaRefusesTheWorkloadChainUnderAnotherRootEitherWay(@TempDir Path other)
      throws Exception {
    Path tokens = other.resolve("tokens.properties");
    Files.writeString(tokens, "t=shop/cart\n");
    EmbeddedCa rogue =
        EmbeddedCa.local(other.resolve("ca"), tokens, "cluster.local", CaMetrics.NOOP);
    // The client trusts only another root: the server's chain fails.
    assertThatThrownBy(() -> call(rogue.authority().trustBundle(), PAYMENTS, issue(ca, CART)))
        .isInstanceOf(StatusRuntimeException.class);
    // The client presents a certificate of another CA: the server's grpc-java TLS refuses it.
    assertThatThrownBy(() -> call(ca.authority().trustBundle(), PAYMENTS, issue(rogue, CART)))
        .isInstanceOf(StatusRuntimeException.class);
  }
}
