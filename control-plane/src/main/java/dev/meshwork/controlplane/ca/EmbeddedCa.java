package dev.meshwork.controlplane.ca;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.auth.IdentityVerifier;
import dev.meshwork.ca.auth.KubernetesTokenReviewVerifier;
import dev.meshwork.ca.auth.StaticIdentityVerifier;
import dev.meshwork.ca.grpc.CaCounters;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.grpc.CertificateServiceImpl;
import dev.meshwork.ca.grpc.CountingCaMetrics;
import dev.meshwork.ca.issue.CaConfig;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.issue.ServingCertificate;
import dev.meshwork.ca.issue.ServingKeyManager;
import dev.meshwork.ca.k8s.WebhookCaBundlePatcher;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.ca.store.CaStore;
import dev.meshwork.ca.store.DirectoryCaStore;
import dev.meshwork.ca.store.KubernetesSecretCaStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ServerCredentials;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA as the control plane runs it: the authority itself, the CSR service to add to the ADS
 * server, the serving certificates of the control plane's own TLS ports, the CA's upkeep and, in a
 * cluster, the distribution of its trust bundle.
 *
 * <h2>Use</h2>
 *
 * <pre>{@code
 * EmbeddedCa ca = EmbeddedCa.inCluster(client, trustDomain, metrics);  // or local(...)
 * grpcServer: NettyServerBuilder.forAddress(addr, ca.servingCredentials()).addService(ca.csrService())
 * webhook 15017: TlsCredentials.fromKeyManager(ca.webhookKeyManager())   // injector-webhook
 * ca.start(election::isLeader);  // upkeep + ConfigMaps + webhook caBundle; ca.close() stops it
 * }</pre>
 *
 * <h2>Serving certificates (15012 and 15017)</h2>
 *
 * Both ports present one certificate from this CA for the control plane's Service names ({@link
 * #SERVING_NAMES}), through a {@link ServingKeyManager} that the upkeep renews at half life and
 * right after the signing intermediate changes; new handshakes get the new certificate, open
 * connections keep theirs. Clients trust the mesh root: sidecars through the trust bundle, the API
 * server through the webhook configuration's caBundle.
 *
 * <h2>Upkeep ({@link #start})</h2>
 *
 * Every {@link #UPKEEP_PERIOD}: the leader runs {@link CertificateAuthority#maintain()} (root
 * rotation phases, retiring old roots, intermediate renewal) and re-publishes the trust bundle
 * where it is missing or stale; followers run {@link CertificateAuthority#reload()} to adopt what
 * the leader stored. Every replica renews its serving certificate. A failed run is logged and
 * retried next period.
 *
 * <h2>Trust bundle (cluster mode)</h2>
 *
 * The leader keeps ConfigMap {@value MeshConstants#TRUST_BUNDLE_CONFIG_MAP} (key {@value
 * MeshConstants#TRUST_BUNDLE_KEY}, every trusted root, two during a rotation) in meshwork-system
 * and every namespace labelled {@code meshwork.dev/inject=enabled}, including namespaces labelled
 * later, and the {@code caBundle} of every webhook in the MutatingWebhookConfiguration {@value
 * WebhookCaBundlePatcher#DEFAULT_NAME}. In local mode the bundle is rewritten to {@code roots.pem}
 * in the CA folder whenever it changes.
 *
 * <p>Threading: thread-safe; {@link #start} and {@link #close} from one control thread.
 */
public final class EmbeddedCa implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedCa.class);

  /** The Secret holding the root and intermediate in {@code meshwork-system}. */
  public static final String CA_SECRET = "meshwork-ca";

  /** File name of the trust bundle in the local CA folder. */
  public static final String LOCAL_TRUST_BUNDLE = "roots.pem";

  /**
   * DNS names of the control plane's serving certificate (its Service, which also fronts the
   * webhook on 15017, and localhost for local runs).
   */
  public static final List<String> SERVING_NAMES =
      List.of(
          "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc",
          "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE + ".svc.cluster.local",
          "meshwork-control-plane." + MeshConstants.SYSTEM_NAMESPACE,
          "localhost");

  /** How often the upkeep runs. */
  public static final Duration UPKEEP_PERIOD = Duration.ofSeconds(30);

  private static final Duration SERVING_TTL = ServingCertificate.DEFAULT_TTL;

  private final CertificateAuthority ca;
  private final CertificateServiceImpl csrService;
  private final CountingCaMetrics counters = new CountingCaMetrics();
  private final ServingKeyManager servingKeys;
  private final KubernetesClient client;
  private final Clock clock;
  private TrustBundleDistribution distribution;
  private ScheduledExecutorService upkeep;
  private volatile BooleanSupplier leader = () -> false;

  private EmbeddedCa(
      CertificateAuthority ca,
      IdentityVerifier verifier,
      CaMetrics metrics,
      KubernetesClient client,
      Clock clock) {
    this.ca = ca;
    this.client = client;
    this.clock = clock;
    this.csrService = new CertificateServiceImpl(ca, verifier, both(counters, metrics));
    this.servingKeys = ServingKeyManager.issue(ca, SERVING_NAMES, SERVING_TTL);
  }

  /**
   * A CA for a local run: root and intermediate in {@code caDir} (created on first start, reused
   * after, so a restart keeps every issued certificate valid), identities from a token file, and
   * the trust bundle kept in {@code caDir/}{@value #LOCAL_TRUST_BUNDLE}.
   */
  public static EmbeddedCa local(Path caDir, Path tokenFile, String trustDomain, CaMetrics metrics)
      throws IOException {
    Files.createDirectories(caDir);
    CaStore store = new DirectoryCaStore(caDir);
    CertificateAuthority ca =
        CertificateAuthority.start(
            CaConfig.defaults().withTrustDomain(trustDomain), store, Clock.systemUTC());
    log.info("CA started from {}; identities from token file {}", store.describe(), tokenFile);
    EmbeddedCa embedded =
        new EmbeddedCa(
            ca, staticVerifier(tokenFile, trustDomain), metrics, null, Clock.systemUTC());
    Path bundle = caDir.resolve(LOCAL_TRUST_BUNDLE);
    ca.addTrustBundleListener(
        roots -> {
          try {
            writePem(bundle, Pem.encodeAll(roots));
          } catch (IOException e) {
            log.warn("cannot write the trust bundle to {}: {}", bundle, e.toString());
          }
        });
    return embedded;
  }

  /** A CA for a cluster: root in the {@value #CA_SECRET} Secret, callers proven by TokenReview. */
  public static EmbeddedCa inCluster(
      KubernetesClient client, String trustDomain, CaMetrics metrics) {
    return inCluster(
        client, CaConfig.defaults().withTrustDomain(trustDomain), Clock.systemUTC(), metrics);
  }

  /** As {@link #inCluster(KubernetesClient, String, CaMetrics)} with another config and clock. */
  static EmbeddedCa inCluster(
      KubernetesClient client, CaConfig config, Clock clock, CaMetrics metrics) {
    CaStore store = new KubernetesSecretCaStore(client, MeshConstants.SYSTEM_NAMESPACE, CA_SECRET);
    CertificateAuthority ca = CertificateAuthority.start(config, store, clock);
    log.info("CA started from {}; identities proven by TokenReview", store.describe());
    return new EmbeddedCa(
        ca,
        new KubernetesTokenReviewVerifier(client, config.trustDomain()),
        metrics,
        client,
        clock);
  }

  public CertificateAuthority authority() {
    return ca;
  }

  /** Totals of the CSR service (certificates issued, requests refused) for the metrics exporter. */
  public CaCounters counters() {
    return counters;
  }

  /** The CSR service with its token-reading interceptor, to add to the ADS server. */
  public ServerServiceDefinition csrService() {
    return csrService.serviceDefinition();
  }

  /**
   * TLS credentials for the control plane's gRPC port (15012): the self-renewing serving
   * certificate of {@link #webhookKeyManager()}. The key never leaves the process.
   */
  public ServerCredentials servingCredentials() {
    return TlsServerCredentials.newBuilder().keyManager(servingKeys).build();
  }

  /**
   * The key manager for the webhook's HTTPS port (15017), for example {@code
   * TlsCredentials.fromKeyManager(ca.webhookKeyManager())}: presents a certificate of this CA for
   * {@link #SERVING_NAMES} (the names the API server uses for {@code clientConfig.service}
   * meshwork-control-plane in meshwork-system) and renews it during the upkeep. The API server
   * trusts it through the caBundle that {@link #start} keeps current in the
   * MutatingWebhookConfiguration {@value WebhookCaBundlePatcher#DEFAULT_NAME}.
   */
  public ServingKeyManager webhookKeyManager() {
    return servingKeys;
  }

  /**
   * Starts the upkeep every {@link #UPKEEP_PERIOD} (first run at once) and, in a cluster, the trust
   * bundle distribution.
   *
   * @param isLeader whether this replica leads (rotates, writes the Secret and the ConfigMaps);
   *     local runs pass {@code () -> true}
   */
  public synchronized void start(BooleanSupplier isLeader) {
    if (upkeep != null) {
      throw new IllegalStateException("already started");
    }
    this.leader = isLeader;
    if (client != null) {
      distribution =
          new TrustBundleDistribution(client, isLeader, WebhookCaBundlePatcher.DEFAULT_NAME);
      ca.addTrustBundleListener(distribution);
    }
    upkeep =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("meshwork-ca-upkeep").daemon().unstarted(r));
    upkeep.scheduleWithFixedDelay(this::upkeep, 0, UPKEEP_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One upkeep run (see the class comment); public for tests and operators' tools. */
  public void upkeep() {
    boolean leading = leader.getAsBoolean();
    try {
      if (leading) {
        ca.maintain();
      } else {
        ca.reload();
      }
      if (servingKeys.renewIfDue(ca, SERVING_TTL, clock.instant())) {
        log.info("serving certificate of 15012/15017 renewed");
      }
      if (distribution != null) {
        distribution.resync();
      }
    } catch (RuntimeException e) {
      log.warn("CA upkeep failed (leader={}); retrying in {}", leading, UPKEEP_PERIOD, e);
    }
  }

  /** Stops the upkeep and the informers. The CA keeps signing. */
  @Override
  public synchronized void close() {
    if (upkeep != null) {
      upkeep.shutdownNow();
    }
    if (distribution != null) {
      distribution.close();
    }
  }

  /** Writes the trust bundle (every current root) as PEM: what sidecars of a local run trust. */
  public void writeTrustBundle(Path file) throws IOException {
    writePem(file, Pem.encodeAll(ca.trustBundle()));
  }

  /** Atomic replace, so a sidecar re-reading the file never sees half a bundle. */
  private static synchronized void writePem(Path file, String pem) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static CaMetrics both(CaMetrics a, CaMetrics b) {
    return new CaMetrics() {
      @Override
      public void issued(SpiffeId identity) {
        a.issued(identity);
        b.issued(identity);
      }

      @Override
      public void refused(Status.Code code, SpiffeId identity) {
        a.refused(code, identity);
        b.refused(code, identity);
      }
    };
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
}
