package dev.meshwork.ca.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateResponse;
import dev.meshwork.ca.TestCa;
import dev.meshwork.ca.auth.StaticIdentityVerifier;
import dev.meshwork.ca.auth.VerifierUnavailableException;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.pki.Csrs;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CertificateServiceTest {
  private static final SpiffeId CART = SpiffeId.of("shop", "cart");
  private static final SpiffeId PAYMENTS = SpiffeId.of("shop", "payments");

  private final CertificateAuthority ca = TestCa.inMemory();
  private final List<String> outcomes = new ArrayList<>();
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    var verifier =
        new StaticIdentityVerifier(Map.of("cart-token", CART, "payments-token", PAYMENTS));
    CaMetrics metrics =
        new CaMetrics() {
          @Override
          public void issued(SpiffeId identity) {
            outcomes.add("issued " + identity);
          }

          @Override
          public void refused(Status.Code code, SpiffeId identity) {
            outcomes.add(code + " " + identity);
          }
        };
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(
                new CertificateServiceImpl(
                        ca,
                        token -> {
                          if (token.equals("apiserver-down")) {
                            throw new VerifierUnavailableException(
                                "TokenReview failed: connection refused", null);
                          }
                          return verifier.verify(token);
                        },
                        metrics)
                    .serviceDefinition())
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private CertificateServiceGrpc.CertificateServiceBlockingStub stub(String authorization) {
    var stub =
        CertificateServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    if (authorization == null) {
      return stub;
    }
    Metadata headers = new Metadata();
    headers.put(CertificateServiceImpl.AUTHORIZATION, authorization);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static CreateCertificateRequest csrFor(SpiffeId id) {
    return CreateCertificateRequest.newBuilder()
        .setCsrPem(Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P256), id))
        .build();
  }

  @Test
  void signsTheCallersOwnIdentityAndReturnsChainAndTrustBundle() throws Exception {
    KeyPair keys = KeyPairs.generate(KeyPairs.P256);
    CreateCertificateResponse response =
        stub("Bearer cart-token")
            .createCertificate(
                CreateCertificateRequest.newBuilder()
                    .setCsrPem(Csrs.workloadCsrPem(keys, CART))
                    .setValiditySeconds(3600)
                    .build());

    assertThat(response.getCertChainPemList()).hasSize(2);
    List<X509Certificate> chain =
        response.getCertChainPemList().stream().map(p -> Pem.certificate(p, "chain")).toList();
    List<X509Certificate> roots =
        response.getTrustBundlePemList().stream().map(p -> Pem.certificate(p, "bundle")).toList();
    assertThat(roots).isEqualTo(ca.trustBundle());
    assertThat(chain.getFirst().getPublicKey()).isEqualTo(keys.getPublic());
    assertThat(chain.getFirst().getSubjectAlternativeNames())
        .containsExactly(List.of(6, CART.uri()));
    assertThat(
            Duration.between(
                chain.getFirst().getNotBefore().toInstant(),
                chain.getFirst().getNotAfter().toInstant()))
        .isEqualTo(Duration.ofHours(1).plusMinutes(1));
    TestCa.pkixValidate(chain, roots, new Date());
    assertThat(outcomes).containsExactly("issued " + CART);
  }

  @Test
  void csrForAnotherServiceAccountIsPermissionDenied() {
    assertThatThrownBy(() -> stub("Bearer cart-token").createCertificate(csrFor(PAYMENTS)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
              assertThat(e.getStatus().getDescription())
                  .isEqualTo("CSR asks for " + PAYMENTS + " but the token proves " + CART);
            });
    assertThat(outcomes).containsExactly("PERMISSION_DENIED " + CART);
  }

  @Test
  void missingOrUnknownTokenIsUnauthenticated() {
    assertThat(code(() -> stub(null).createCertificate(csrFor(CART))))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(code(() -> stub("Bearer forged").createCertificate(csrFor(CART))))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(code(() -> stub("Basic cart-token").createCertificate(csrFor(CART))))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(outcomes)
        .containsExactly("UNAUTHENTICATED null", "UNAUTHENTICATED null", "UNAUTHENTICATED null");
  }

  @Test
  void malformedCsrIsInvalidArgument() {
    var garbage = CreateCertificateRequest.newBuilder().setCsrPem("not a csr").build();
    assertThat(code(() -> stub("Bearer cart-token").createCertificate(garbage)))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    var p384 =
        CreateCertificateRequest.newBuilder()
            .setCsrPem(Csrs.workloadCsrPem(KeyPairs.generate(KeyPairs.P384), CART))
            .build();
    assertThat(code(() -> stub("bearer cart-token").createCertificate(p384)))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void identityOutsideTheCasTrustDomainIsPermissionDenied() throws Exception {
    SpiffeId foreign = new SpiffeId("other.domain", "shop", "cart");
    String name = InProcessServerBuilder.generateName();
    Server other =
        InProcessServerBuilder.forName(name)
            .addService(
                new CertificateServiceImpl(
                        ca, new StaticIdentityVerifier(Map.of("t", foreign)), CaMetrics.NOOP)
                    .serviceDefinition())
            .build()
            .start();
    ManagedChannel otherChannel = InProcessChannelBuilder.forName(name).build();
    try {
      Metadata headers = new Metadata();
      headers.put(CertificateServiceImpl.AUTHORIZATION, "Bearer t");
      var stub =
          CertificateServiceGrpc.newBlockingStub(otherChannel)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
      assertThat(code(() -> stub.createCertificate(csrFor(foreign))))
          .isEqualTo(Status.Code.PERMISSION_DENIED);
    } finally {
      otherChannel.shutdownNow();
      other.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void unreachableApiServerIsUnavailableSoSidecarsRetry() {
    assertThat(code(() -> stub("Bearer apiserver-down").createCertificate(csrFor(CART))))
        .isEqualTo(Status.Code.UNAVAILABLE);
  }

  private static Status.Code code(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }
}
