package dev.meshwork.ca.grpc;

import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateResponse;
import dev.meshwork.ca.auth.AuthenticationException;
import dev.meshwork.ca.auth.IdentityVerifier;
import dev.meshwork.ca.auth.VerifierUnavailableException;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.issue.IssuedCertificate;
import dev.meshwork.ca.pki.MalformedCsrException;
import dev.meshwork.ca.pki.WorkloadCsr;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.SocketAddress;
import java.time.Duration;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs a workload CSR for the identity its caller proves, and nothing else.
 *
 * <ul>
 *   <li>UNAUTHENTICATED: no {@code authorization: Bearer} header, or the token proves nothing.
 *   <li>INVALID_ARGUMENT: malformed CSR, bad signature, key not P-256, SANs not one SPIFFE URI.
 *   <li>PERMISSION_DENIED: the CSR names an identity other than the caller's.
 *   <li>UNAVAILABLE: the token could not be checked (API server unreachable); retry.
 * </ul>
 *
 * Every refusal is logged with the proven caller (when known) and the peer address; tokens and CSRs
 * are never logged. Add it to a server with {@link #bindService()}, which includes the
 * header-reading interceptor.
 */
@ThreadSafe
public final class CertificateServiceImpl
    extends CertificateServiceGrpc.CertificateServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(CertificateServiceImpl.class);

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<String> TOKEN = Context.key("meshwork-ca-token");
  private static final Context.Key<SocketAddress> PEER = Context.key("meshwork-ca-peer");
  private static final String BEARER = "bearer ";

  private final CertificateAuthority ca;
  private final IdentityVerifier verifier;
  private final CaMetrics metrics;

  public CertificateServiceImpl(
      CertificateAuthority ca, IdentityVerifier verifier, CaMetrics metrics) {
    this.ca = ca;
    this.verifier = verifier;
    this.metrics = metrics;
  }

  /**
   * The service with its header-reading interceptor: add this to a server. (Adding the bare service
   * instead fails closed: every call is UNAUTHENTICATED because no token is seen.)
   */
  public ServerServiceDefinition serviceDefinition() {
    return ServerInterceptors.intercept(bindService(), new TokenInterceptor());
  }

  @Override
  public void createCertificate(
      CreateCertificateRequest request, StreamObserver<CreateCertificateResponse> response) {
    SocketAddress peer = PEER.get();
    String token = TOKEN.get();
    if (token == null) {
      refuse(
          response,
          Status.UNAUTHENTICATED,
          null,
          peer,
          "missing 'authorization: Bearer <token>' metadata");
      return;
    }
    SpiffeId caller;
    try {
      caller = verifier.verify(token);
    } catch (AuthenticationException e) {
      refuse(response, Status.UNAUTHENTICATED, null, peer, e.getMessage());
      return;
    } catch (VerifierUnavailableException e) {
      refuse(response, Status.UNAVAILABLE, null, peer, e.getMessage());
      return;
    }
    WorkloadCsr csr;
    try {
      csr = WorkloadCsr.parse(request.getCsrPem());
    } catch (MalformedCsrException e) {
      refuse(response, Status.INVALID_ARGUMENT, caller, peer, e.getMessage());
      return;
    }
    if (!csr.identity().equals(caller)) {
      refuse(
          response,
          Status.PERMISSION_DENIED,
          caller,
          peer,
          "CSR asks for " + csr.identity() + " but the token proves " + caller);
      return;
    }
    IssuedCertificate issued;
    try {
      issued = ca.issueWorkload(csr, Duration.ofSeconds(Math.max(0, request.getValiditySeconds())));
    } catch (IllegalArgumentException e) {
      // The proven identity is outside this CA's trust domain (verifier and CA configured apart).
      refuse(response, Status.PERMISSION_DENIED, caller, peer, e.getMessage());
      return;
    }
    log.info(
        "certificate issued: identity={} peer={} serial={} notAfter={}",
        caller,
        peer,
        issued.leaf().getSerialNumber().toString(16),
        issued.leaf().getNotAfter().toInstant());
    metrics.issued(caller);
    response.onNext(
        CreateCertificateResponse.newBuilder()
            .addAllCertChainPem(issued.chainPem())
            .addAllTrustBundlePem(issued.trustBundlePem())
            .build());
    response.onCompleted();
  }

  private void refuse(
      StreamObserver<?> response,
      Status status,
      SpiffeId caller,
      SocketAddress peer,
      String reason) {
    log.warn(
        "CSR refused: code={} caller={} peer={} reason={}", status.getCode(), caller, peer, reason);
    metrics.refused(status.getCode(), caller);
    response.onError(status.withDescription(reason).asRuntimeException());
  }

  /** Moves the bearer token and the peer address from the call into the gRPC Context. */
  private static final class TokenInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      String header = headers.get(AUTHORIZATION);
      String token = null;
      if (header != null && header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
        token = header.substring(BEARER.length()).strip();
      }
      Context context =
          Context.current()
              .withValue(TOKEN, token)
              .withValue(PEER, call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
      return Contexts.interceptCall(context, call, headers, next);
    }
  }
}
