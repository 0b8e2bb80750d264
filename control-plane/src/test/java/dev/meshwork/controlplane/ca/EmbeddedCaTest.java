package dev.meshwork.controlplane.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateResponse;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CA as a local run uses it: CSR service over TLS with the CA's own serving certificate, the
 * client trusting only the written trust bundle, identities from the token file.
 */
class EmbeddedCaTest {

  private static CreateCertificateResponse request(
      Path bundle, int port, String token, SpiffeId asked) throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(
                "127.0.0.1",
                port,
                TlsChannelCredentials.newBuilder().trustManager(bundle.toFile()).build())
            .overrideAuthority("meshwork-control-plane.meshwork-system.svc")
            .build();
    try {
      Metadata headers = new Metadata();
      headers.put(
          Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
      return CertificateServiceGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .createCertificate(
              CreateCertificateRequest.newBuilder()
                  .setCsrPem(Csrs.workloadCsrPem(KeyPairs.generate("secp256r1"), asked))
                  .build());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static Server serve(EmbeddedCa ca) throws IOException {
    return NettyServerBuilder.forAddress(
            new InetSocketAddress("127.0.0.1", 0), ca.servingCredentials())
        .addService(ca.csrService())
        .build()
        .start();
  }

  @Test
  void signsTheTokensIdentityOverTlsAndRefusesAnother(@TempDir Path dir) throws Exception {
    Path tokens = dir.resolve("tokens.properties");
    Files.writeString(tokens, "tok-caller=demo/caller\ntok-greeter=demo/greeter\n");
    EmbeddedCa ca = EmbeddedCa.local(dir.resolve("ca"), tokens, "cluster.local", CaMetrics.NOOP);
    Path bundle = dir.resolve("roots.pem");
    ca.writeTrustBundle(bundle);
    Server server = serve(ca);
    try {
      CreateCertificateResponse ok =
          request(bundle, server.getPort(), "tok-caller", SpiffeId.of("demo", "caller"));
      X509Certificate leaf = Pem.certificate(ok.getCertChainPem(0), "leaf");
      assertThat(leaf.getSubjectAlternativeNames())
          .anySatisfy(
              san -> assertThat(san.get(1)).isEqualTo("spiffe://cluster.local/ns/demo/sa/caller"));
      assertThat(ok.getTrustBundlePemList()).hasSize(1);

      assertThatThrownBy(
              () -> request(bundle, server.getPort(), "tok-caller", SpiffeId.of("demo", "greeter")))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
      assertThatThrownBy(
              () ->
                  request(bundle, server.getPort(), "no-such-token", SpiffeId.of("demo", "caller")))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

      // What the metrics exporter publishes.
      assertThat(ca.counters().issued()).isEqualTo(1);
      assertThat(ca.counters().refused()).isEqualTo(2);
      assertThat(ca.counters().refusedByCode())
          .containsEntry(Status.Code.PERMISSION_DENIED, 1L)
          .containsEntry(Status.Code.UNAUTHENTICATED, 1L);
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void localRootsFileFollowsARootRotation(@TempDir Path dir) throws Exception {
    Path tokens = dir.resolve("tokens.properties");
    Files.writeString(tokens, "t=demo/caller\n");
    EmbeddedCa ca = EmbeddedCa.local(dir.resolve("ca"), tokens, "cluster.local", CaMetrics.NOOP);
    Path roots = dir.resolve("ca").resolve(EmbeddedCa.LOCAL_TRUST_BUNDLE);
    assertThat(Pem.certificates(Files.readString(roots), "roots"))
        .isEqualTo(ca.authority().trustBundle());
    ca.authority().rotateRoot();
    assertThat(Pem.certificates(Files.readString(roots), "roots"))
        .hasSize(2)
        .isEqualTo(ca.authority().trustBundle());
  }

  @Test
  void aRestartKeepsTheRoot(@TempDir Path dir) throws Exception {
    Path tokens = dir.resolve("tokens.properties");
    Files.writeString(tokens, "t=demo/caller\n");
    List<X509Certificate> first =
        EmbeddedCa.local(dir.resolve("ca"), tokens, "cluster.local", CaMetrics.NOOP)
            .authority()
            .trustBundle();
    List<X509Certificate> second =
        EmbeddedCa.local(dir.resolve("ca"), tokens, "cluster.local", CaMetrics.NOOP)
            .authority()
            .trustBundle();
    assertThat(second).isEqualTo(first);
  }

  @Test
  void malformedTokenFilesAreRefusedWithTheirName(@TempDir Path dir) throws Exception {
    Path tokens = dir.resolve("bad.properties");
    Files.writeString(tokens, "t=just-a-namespace\n");
    assertThatThrownBy(() -> EmbeddedCa.staticVerifier(tokens, "cluster.local"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("bad.properties")
        .hasMessageContaining("namespace/serviceaccount");
    Files.writeString(tokens, "t=demo/Not_Valid\n");
    assertThatThrownBy(() -> EmbeddedCa.staticVerifier(tokens, "cluster.local"))
        .hasMessageContaining("service account");
  }
}
