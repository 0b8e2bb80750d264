package dev.meshwork.ca.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateResponse;
import dev.meshwork.ca.TestCa;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standalone CA as meshctl demo runs it: directory store, static tokens, TLS on loopback. */
class CaServerIT {
  private static final SpiffeId CART = SpiffeId.of("shop", "cart");
  @TempDir Path dir;

  private CaServerConfig config() throws Exception {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, "# demo tokens\ncart-token spiffe://cluster.local/ns/shop/sa/cart\n");
    return new CaServerConfig(
        "cluster.local",
        dir.resolve("ca").toString(),
        "127.0.0.1",
        0,
        Duration.ofHours(1),
        Optional.of(tokens),
        List.of("localhost"));
  }

  private CreateCertificateResponse request(int port, SpiffeId id) throws Exception {
    var credentials =
        TlsChannelCredentials.newBuilder()
            .trustManager(dir.resolve("ca/trust-bundle.pem").toFile())
            .build();
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", port, credentials)
            .overrideAuthority("localhost")
            .build();
    try {
      Metadata headers = new Metadata();
      headers.put(
          Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer cart-token");
      return CertificateServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(20, TimeUnit.SECONDS)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
          .createCertificate(
              CreateCertificateRequest.newBuilder()
                  .setCsrPem(Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P256), id))
                  .build());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static List<X509Certificate> certs(List<String> pems) {
    return pems.stream().map(p -> Pem.certificate(p, "test")).toList();
  }

  @Test
  void restartedCaReusesItsRootSoEarlierCertificatesStayValid() throws Exception {
    CaServerConfig config = config();
    CreateCertificateResponse before;
    try (CaServer first = CaServer.start(config)) {
      before = request(first.port(), CART);
      assertThat(certs(before.getCertChainPemList()).getFirst().getSubjectAlternativeNames())
          .containsExactly(List.of(6, CART.uri()));
      assertThatThrownBy(() -> request(first.port(), SpiffeId.of("shop", "payments")))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }
    try (CaServer second = CaServer.start(config)) {
      // The trust-bundle.pem clients already hold still authenticates the restarted CA ...
      CreateCertificateResponse after = request(second.port(), CART);
      // ... and certificates from before the restart verify against the new answers' bundle.
      TestCa.pkixValidate(
          certs(before.getCertChainPemList()), certs(after.getTrustBundlePemList()), new Date());
      assertThat(after.getTrustBundlePemList()).isEqualTo(before.getTrustBundlePemList());
    }
  }

  @Test
  void malformedTokenFileIsRefusedWithTheLineNamed() throws Exception {
    Path tokens = dir.resolve("bad-tokens");
    Files.writeString(tokens, "ok spiffe://cluster.local/ns/a/sa/b\nbroken\n");
    assertThatThrownBy(() -> CaServerConfig.readTokens(tokens))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith("bad-tokens:2: expected '<token> <spiffe-id>'");
  }

  @Test
  void configurationComesFromTheEnvironmentWithClusterDefaults() {
    CaServerConfig defaults = CaServerConfig.fromEnvironment(name -> null);
    assertThat(defaults.port()).isEqualTo(15012);
    assertThat(defaults.store()).isEqualTo("secret:meshwork-system/meshwork-ca");
    assertThat(defaults.workloadTtl()).isEqualTo(Duration.ofHours(24));
    assertThat(defaults.staticTokens()).isEmpty();
    CaServerConfig custom =
        CaServerConfig.fromEnvironment(
            name -> name.equals("MESHWORK_CA_WORKLOAD_TTL") ? "PT2H" : null);
    assertThat(custom.workloadTtl()).isEqualTo(Duration.ofHours(2));
    assertThatThrownBy(
            () ->
                CaServerConfig.fromEnvironment(
                    name -> name.equals("MESHWORK_CA_PORT") ? "x" : null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad CA configuration");
  }
}
