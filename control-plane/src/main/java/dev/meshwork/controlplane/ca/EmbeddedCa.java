package dev.meshwork.controlplane.ca;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.auth.IdentityVerifier;
import dev.meshwork.ca.auth.KubernetesTokenReviewVerifier;
import dev.meshwork.ca.auth.StaticIdentityVerifier;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.grpc.CertificateServiceImpl;
import dev.meshwork.ca.issue.CaConfig;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.issue.IssuedCertificate;
import dev.meshwork.ca.pki.KeyPairs;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.ca.store.CaStore;
import dev.meshwork.ca.store.DirectoryCaStore;
import dev.meshwork.ca.store.KubernetesSecretCaStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ServerCredentials;
import io.grpc.ServerServiceDefinition;
import io.grpc.TlsServerCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA as the control plane runs it: the authority itself, the CSR service to add to the ADS
 * server, and the TLS credentials of that server, signed by the same CA so sidecars need only the
 * mesh root to trust both ADS and the CA.
 */
public final class EmbeddedCa {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedCa.class);

  /** The Secret holding the root and intermediate in {@code meshwork-system}. */
  public static final String CA_SECRET = "meshwork-ca";

  /** DNS names of the control plane's serving certificate (the Service, and localhost runs). */
  public static final List<String> SERVING_NAMES =
      List.of(
          "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc",
          "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc.cluster.local",
          "localhost");

  private static final Duration SERVING_TTL = Duration.ofDays(30);

  private final CertificateAuthority ca;
  private final CertificateServiceImpl csrService;

  private EmbeddedCa(CertificateAuthority ca, IdentityVerifier verifier, CaMetrics metrics) {
    this.ca = ca;
    this.csrService = new CertificateServiceImpl(ca, verifier, metrics);
  }

  /**
   * A CA for a local run: root and intermediate in {@code caDir} (created on first start, reused
   * after, so a restart keeps every issued certificate valid) and identities from a token file.
   */
  public static EmbeddedCa local(Path caDir, Path tokenFile, String trustDomain, CaMetrics metrics)
      throws IOException {
    Files.createDirectories(caDir);
    CaStore store = new DirectoryCaStore(caDir);
    CertificateAuthority ca =
        CertificateAuthority.start(
            CaConfig.defaults().withTrustDomain(trustDomain), store, Clock.systemUTC());
    log.info("CA started from {}; identities from token file {}", store.describe(), tokenFile);
    return new EmbeddedCa(ca, staticVerifier(tokenFile, trustDomain), metrics);
  }

  /** A CA for a cluster: root in the {@value #CA_SECRET} Secret, callers proven by TokenReview. */
  public static EmbeddedCa inCluster(
      KubernetesClient client, String trustDomain, CaMetrics metrics) {
    CaStore store = new KubernetesSecretCaStore(client, MeshConstants.SYSTEM_NAMESPACE, CA_SECRET);
    CertificateAuthority ca =
        CertificateAuthority.start(
            CaConfig.defaults().withTrustDomain(trustDomain), store, Clock.systemUTC());
    log.info("CA started from {}; identities proven by TokenReview", store.describe());
    return new EmbeddedCa(ca, new KubernetesTokenReviewVerifier(client, trustDomain), metrics);
  }

  public CertificateAuthority authority() {
    return ca;
  }

  /** The CSR service with its token-reading interceptor, to add to the ADS server. */
  public ServerServiceDefinition csrService() {
    return csrService.serviceDefinition();
  }

  /**
   * TLS credentials for the control plane's gRPC port, with a fresh key and a certificate from this
   * CA. The key never leaves the process.
   */
  public ServerCredentials servingCredentials() throws IOException {
    KeyPair keys = KeyPairs.generate("secp256r1");
    IssuedCertificate cert = ca.issueServing(keys.getPublic(), SERVING_NAMES, SERVING_TTL);
    return TlsServerCredentials.newBuilder()
        .keyManager(
            stream(String.join("", cert.chainPem())),
            stream(Pem.encodePrivateKey(keys.getPrivate())))
        .build();
  }

  /** Writes the trust bundle (every current root) as PEM: what sidecars of a local run trust. */
  public void writeTrustBundle(Path file) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, Pem.encodeAll(ca.trustBundle()));
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Reads {@code token=namespace/serviceaccount} lines (the demo's stand-in for TokenReview).
   *
   * @throws IOException naming the file and line of anything malformed
   */
  static IdentityVerifier staticVerifier(Path tokenFile, String trustDomain) throws IOException {
    Properties p = new Properties();
    try (var in = Files.newInputStream(tokenFile)) {
      p.load(in);
    }
    Map<String, SpiffeId> identities = new LinkedHashMap<>();
    for (String token : p.stringPropertyNames()) {
      String[] nsSa = p.getProperty(token).trim().split("/", -1);
      if (nsSa.length != 2) {
        throw new IOException(
            tokenFile
                + ": token "
                + token
                + " must map to namespace/serviceaccount, got '"
                + p.getProperty(token)
                + "'");
      }
      try {
        identities.put(token, new SpiffeId(trustDomain, nsSa[0], nsSa[1]));
      } catch (IllegalArgumentException e) {
        throw new IOException(tokenFile + ": token " + token + ": " + e.getMessage(), e);
      }
    }
    if (identities.isEmpty()) {
      throw new IOException(tokenFile + " holds no tokens");
    }
    return new StaticIdentityVerifier(identities);
  }

  private static ByteArrayInputStream stream(String pem) {
    return new ByteArrayInputStream(pem.getBytes(StandardCharsets.UTF_8));
  }
}
