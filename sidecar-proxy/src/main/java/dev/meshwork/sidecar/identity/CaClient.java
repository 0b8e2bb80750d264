package dev.meshwork.sidecar.identity;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.SpiffeId;
import dev.meshwork.api.ca.v1alpha1.CertificateServiceGrpc;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateRequest;
import dev.meshwork.api.ca.v1alpha1.CreateCertificateResponse;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.annotation.concurrent.GuardedBy;
import javax.annotation.concurrent.ThreadSafe;

/**
 * Gets workload certificates from the Meshwork CA ({@code CertificateService} on the control
 * plane's 15012) over TLS, trusting only the configured root(s) for the CA's own certificate. The
 * projected ServiceAccount token is re-read from its file on every call: the kubelet rotates it.
 * Every answer is checked (leaf holds our public key and our SPIFFE ID, chain verifies against the
 * returned bundle) before it is accepted.
 */
@ThreadSafe
public final class CaClient implements CertificateIssuer, AutoCloseable {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Set<Status.Code> RETRYABLE =
      Set.of(
          Status.Code.UNAVAILABLE,
          Status.Code.DEADLINE_EXCEEDED,
          Status.Code.RESOURCE_EXHAUSTED,
          Status.Code.ABORTED,
          Status.Code.INTERNAL,
          Status.Code.UNKNOWN,
          Status.Code.UNAUTHENTICATED); // a token the kubelet has not refreshed yet

  /**
   * @param target {@code host:port} of the CA
   * @param authority TLS name the CA's certificate must carry (its Service DNS name)
   * @param caRoots PEM file with the root(s) that sign the CA's serving certificate
   * @param tokenPath projected token, audience meshwork-ca (default {@link
   *     MeshConstants#CA_TOKEN_PATH})
   * @param identity the SPIFFE ID to request; the CA refuses any other than the token's
   * @param requestedTtl lifetime to ask for; zero lets the CA choose (24h by default)
   * @param callTimeout deadline of one CSR call
   */
  public record Config(
      String target,
      String authority,
      Path caRoots,
      Path tokenPath,
      SpiffeId identity,
      Duration requestedTtl,
      Duration callTimeout) {
    public Config {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(authority, "authority");
      Objects.requireNonNull(caRoots, "caRoots");
      Objects.requireNonNull(tokenPath, "tokenPath");
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(requestedTtl, "requestedTtl");
      Objects.requireNonNull(callTimeout, "callTimeout");
    }

    /**
     * In-cluster defaults: the control plane's Service on 15012, the injected token, and the
     * mounted trust bundle ({@link MeshConstants#TRUST_BUNDLE_PATH}) as roots for the CA.
     */
    public static Config inCluster(SpiffeId identity) {
      return inCluster(Path.of(MeshConstants.TRUST_BUNDLE_PATH), identity);
    }

    /** As {@link #inCluster(SpiffeId)} with another root file. */
    public static Config inCluster(Path caRoots, SpiffeId identity) {
      String authority = "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc";
      return new Config(
          authority + ":" + MeshConstants.CONTROL_PLANE_GRPC_PORT,
          authority,
          caRoots,
          Path.of(MeshConstants.CA_TOKEN_PATH),
          identity,
          Duration.ZERO,
          Duration.ofSeconds(10));
    }
  }

  private final Config config;
  private final SpiffePeerVerifier verifier;

  /** The channel and the root file content it trusts; replaced when the file changes. */
  private record TrustedChannel(String rootsPem, ManagedChannel channel) {}

  @GuardedBy("this")
  private TrustedChannel trusted;

  /** Calls that go over a channel owned elsewhere instead of one of ours, or null. */
  private final Channel shared;

  public CaClient(Config config, Clock clock) throws IOException {
    this.config = config;
    this.verifier = new SpiffePeerVerifier(config.identity().trustDomain(), clock);
    this.shared = null;
    channel(); // fail fast on an unreadable root file
  }

  /**
   * A client whose calls go over {@code shared}, a TLS channel to the CA that its owner keeps
   * trusting the current roots and closes itself. The sidecar passes its xDS channel when the CA is
   * the control plane it already talks to, with the same roots and the CA's TLS name: one TLS
   * handshake at start instead of two. {@link Config#caRoots()} and {@link Config#authority()} are
   * then the channel's business.
   */
  public CaClient(Config config, Channel shared, Clock clock) {
    this.config = config;
    this.verifier = new SpiffePeerVerifier(config.identity().trustDomain(), clock);
    this.shared = Objects.requireNonNull(shared, "shared");
  }

  /**
   * The channel for the current content of the root file. The file is typically the mounted trust
   * bundle ConfigMap, which the kubelet updates during a root rotation; a channel built from the
   * old content would stop trusting the CA once its certificate moves to the new root.
   */
  private synchronized ManagedChannel channel() throws IOException {
    String roots = Files.readString(config.caRoots(), StandardCharsets.US_ASCII);
    if (trusted != null && trusted.rootsPem().equals(roots)) {
      return trusted.channel();
    }
    ChannelCredentials credentials =
        TlsChannelCredentials.newBuilder()
            .trustManager(new ByteArrayInputStream(roots.getBytes(StandardCharsets.US_ASCII)))
            .build();
    ManagedChannel channel =
        Grpc.newChannelBuilder(config.target(), credentials)
            .overrideAuthority(config.authority())
            .build();
    if (trusted != null) {
      trusted.channel().shutdown();
    }
    trusted = new TrustedChannel(roots, channel);
    return channel;
  }

  @Override
  public WorkloadIdentity issue(KeyPair keys) {
    String token = readToken();
    Channel channel = shared;
    if (channel == null) {
      try {
        channel = channel();
      } catch (IOException e) {
        throw new IssuanceException("cannot read CA roots " + config.caRoots() + ": " + e, true, e);
      }
    }
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + token);
    CreateCertificateResponse response;
    try {
      response =
          CertificateServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(config.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
              .createCertificate(
                  CreateCertificateRequest.newBuilder()
                      .setCsrPem(WorkloadCsrs.csrPem(keys, config.identity()))
                      .setValiditySeconds(config.requestedTtl().toSeconds())
                      .build());
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      throw new IssuanceException(
          "CA "
              + config.target()
              + " refused or failed: "
              + code
              + " "
              + e.getStatus().getDescription(),
          RETRYABLE.contains(code),
          e);
    }
    return check(keys, response);
  }

  private WorkloadIdentity check(KeyPair keys, CreateCertificateResponse response) {
    try {
      List<X509Certificate> chain = parse(response.getCertChainPemList());
      List<X509Certificate> bundle = parse(response.getTrustBundlePemList());
      if (chain.isEmpty() || bundle.isEmpty()) {
        throw new CertificateException("CA answered without chain or trust bundle");
      }
      if (!chain.getFirst().getPublicKey().equals(keys.getPublic())) {
        throw new CertificateException("CA certified another key than ours");
      }
      SpiffeId certified =
          verifier.verify(chain, bundle, SpiffePeerVerifier.PeerRole.SERVER, id -> true);
      if (!certified.equals(config.identity())) {
        throw new CertificateException(
            "CA certified " + certified + ", we asked for " + config.identity());
      }
      return new WorkloadIdentity(certified, keys.getPrivate(), chain, bundle);
    } catch (CertificateException e) {
      throw new IssuanceException(
          "unusable answer from CA " + config.target() + ": " + e.getMessage(), true, e);
    }
  }

  private static List<X509Certificate> parse(List<String> pems) throws CertificateException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> certs = new ArrayList<>();
    for (String pem : pems) {
      for (var cert :
          factory.generateCertificates(
              new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        certs.add((X509Certificate) cert);
      }
    }
    return certs;
  }

  private String readToken() {
    try {
      String token = Files.readString(config.tokenPath(), StandardCharsets.UTF_8).strip();
      if (token.isEmpty()) {
        throw new IssuanceException("token file " + config.tokenPath() + " is empty", true, null);
      }
      return token;
    } catch (IOException e) {
      throw new IssuanceException("cannot read token " + config.tokenPath() + ": " + e, true, e);
    }
  }

  @Override
  public void close() throws InterruptedException {
    ManagedChannel channel;
    synchronized (this) {
      channel = trusted == null ? null : trusted.channel();
    }
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
