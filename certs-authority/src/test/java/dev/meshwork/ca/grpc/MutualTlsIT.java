package dev.meshwork.ca.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.ca.TestCa;
import dev.meshwork.ca.auth.StaticIdentityVerifier;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.issue.IssuedCertificate;
import dev.meshwork.ca.issue.ServingCertificate;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.ca.pki.WorkloadCsr;
import io.grpc.ChannelCredentials;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * grpc-java's own TLS stack (Netty) on loopback with certificates from the CA, mutual auth: the
 * shape of a sidecar calling the control plane's 15012 port with its workload certificate.
 */
class MutualTlsIT {
  private static final String AUTHORITY = "meshwork-control-plane.meshwork-system.svc";
  private static final SpiffeId CART = SpiffeId.of("shop", "cart");

  private final CertificateAuthority ca = TestCa.inMemory();
  private final List<String> peerIdentities = new CopyOnWriteArrayList<>();
  private Server server;

  private static InputStream pem(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
  }

  @BeforeEach
  void startServer() throws Exception {
    ServingCertificate serving =
        ServingCertificate.forControlPlane(ca, ServingCertificate.DEFAULT_TTL);
    TlsServerCredentials.Builder credentials =
        TlsServerCredentials.newBuilder()
            .keyManager(
                pem(Pem.encodeAll(serving.certificate().chain())),
                pem(Pem.encodePrivateKey(serving.key())))
            .trustManager(pem(Pem.encodeAll(ca.trustBundle())))
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    ServerInterceptor recordPeer =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            try {
              X509Certificate peer = (X509Certificate) session.getPeerCertificates()[0];
              peerIdentities.add(
                  (String) peer.getSubjectAlternativeNames().iterator().next().get(1));
            } catch (Exception e) {
              peerIdentities.add("error: " + e);
            }
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                next.startCall(call, headers)) {};
          }
        };
    var service =
        new CertificateServiceImpl(
            ca, new StaticIdentityVerifier(Map.of("cart-token", CART)), CaMetrics.NOOP);
    server =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), credentials.build())
            .addService(ServerInterceptors.intercept(service.serviceDefinition(), recordPeer))
            .build()
            .start();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private ManagedChannel channel(ChannelCredentials credentials) {
    return Grpc.newChannelBuilderForAddress(
            InetAddress.getLoopbackAddress().getHostAddress(), server.getPort(), credentials)
        .overrideAuthority(AUTHORITY)
        .build();
  }

  private static CreateCertificateRequest csr(SpiffeId id) {
    return CreateCertificateRequest.newBuilder()
        .setCsrPem(Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P256), id))
        .build();
  }

  private static CertificateServiceGrpc.CertificateServiceBlockingStub stub(
      ManagedChannel channel) {
    Metadata headers = new Metadata();
    headers.put(CertificateServiceImpl.AUTHORIZATION, "Bearer cart-token");
    return CertificateServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  @Test
  void workloadCertificatesAuthenticateBothEndsOverGrpcTls() throws Exception {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    IssuedCertificate workload =
        ca.issueWorkload(
            WorkloadCsr.parse(Csrs.workloadCsrPem(keys, CART)), java.time.Duration.ZERO);
    ChannelCredentials credentials =
        TlsChannelCredentials.newBuilder()
            .keyManager(
                pem(workload.chainPem().get(0) + workload.chainPem().get(1)),
                pem(Pem.encodePrivateKey(keys.getPrivate())))
            .trustManager(pem(Pem.encodeAll(ca.trustBundle())))
            .build();
    ManagedChannel channel = channel(credentials);
    try {
      var response = stub(channel).createCertificate(csr(CART));
      assertThat(response.getCertChainPemCount()).isEqualTo(2);
      assertThat(peerIdentities).containsExactly(CART.uri());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void clientWithACertificateFromAnotherCaIsRejectedInTheHandshake() throws Exception {
    CertificateAuthority rogue = TestCa.inMemory();
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    IssuedCertificate forged =
        rogue.issueWorkload(
            WorkloadCsr.parse(Csrs.workloadCsrPem(keys, CART)), java.time.Duration.ZERO);
    ChannelCredentials credentials =
        TlsChannelCredentials.newBuilder()
            .keyManager(
                pem(Pem.encodeAll(forged.chain())), pem(Pem.encodePrivateKey(keys.getPrivate())))
            .trustManager(pem(Pem.encodeAll(ca.trustBundle())))
            .build();
    ManagedChannel channel = channel(credentials);
    try {
      assertThatThrownBy(() -> stub(channel).createCertificate(csr(CART)))
          .isInstanceOf(StatusRuntimeException.class);
      assertThat(peerIdentities).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void clientThatDoesNotTrustTheMeshRootRefusesTheServer() throws Exception {
    ChannelCredentials credentials =
        TlsChannelCredentials.newBuilder()
            .trustManager(pem(Pem.encodeAll(TestCa.inMemory().trustBundle())))
            .build();
    ManagedChannel channel = channel(credentials);
    try {
      assertThatThrownBy(() -> stub(channel).createCertificate(csr(CART)))
          .isInstanceOf(StatusRuntimeException.class)
          .hasMessageContaining("UNAVAILABLE");
      assertThat(peerIdentities).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
