package dev.meshwork.ca.server;

import dev.meshwork.ca.auth.IdentityVerifier;
import dev.meshwork.ca.auth.KubernetesTokenReviewVerifier;
import dev.meshwork.ca.auth.StaticIdentityVerifier;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.grpc.CertificateServiceImpl;
import dev.meshwork.ca.issue.CaConfig;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.issue.ServingCertificate;
import dev.meshwork.ca.issue.ServingKeyManager;
import dev.meshwork.ca.k8s.TrustBundlePublisher;
import dev.meshwork.ca.k8s.WebhookCaBundlePatcher;
import dev.meshwork.ca.pki.Pem;
import dev.meshwork.ca.store.CaStore;
import dev.meshwork.ca.store.DirectoryCaStore;
import dev.meshwork.ca.store.KubernetesSecretCaStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standalone CA: the CSR service over TLS with a serving certificate from the CA itself, upkeep
 * every minute (retired roots, intermediate renewal, serving certificate renewal at half life), and
 * in Kubernetes mode the trust bundle ConfigMaps and the webhook caBundle.
 *
 * <p>Entry point: {@link #main}. Configuration: {@link CaServerConfig} (environment variables).
 */
public final class CaServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CaServer.class);
  private static final Duration SERVING_TTL = ServingCertificate.DEFAULT_TTL;

  private final CaServerConfig config;
  private final CertificateAuthority ca;
  private final ServingKeyManager servingKeys;
  private final Server server;
  private final ScheduledExecutorService upkeep;
  private final KubernetesClient kubernetes;

  private CaServer(CaServerConfig config) throws IOException {
    this.config = config;
    KubernetesClient client = null;
    CaStore store;
    if (config.store().startsWith("secret:")) {
      String[] ref = config.store().substring("secret:".length()).split("/", 2);
      if (ref.length != 2) {
        throw new IllegalArgumentException(
            "MESHWORK_CA_STORE must be secret:<namespace>/<name>, got " + config.store());
      }
      client = new KubernetesClientBuilder().build();
      store = new KubernetesSecretCaStore(client, ref[0], ref[1]);
    } else {
      store = new DirectoryCaStore(Path.of(config.store()));
    }
    this.kubernetes = client;
    CaConfig caConfig =
        CaConfig.defaults()
            .withTrustDomain(config.trustDomain())
            .withDefaultWorkloadTtl(config.workloadTtl());
    this.ca = CertificateAuthority.start(caConfig, store, Clock.systemUTC());

    IdentityVerifier verifier;
    if (config.staticTokens().isPresent()) {
      log.warn(
          "STATIC TOKENS from {}: not for clusters; tokens are not checked with Kubernetes",
          config.staticTokens().get());
      verifier = new StaticIdentityVerifier(CaServerConfig.readTokens(config.staticTokens().get()));
    } else {
      if (client == null) {
        client = new KubernetesClientBuilder().build();
      }
      verifier = new KubernetesTokenReviewVerifier(client, config.trustDomain());
    }
    if (kubernetes != null) {
      ca.addTrustBundleListener(new TrustBundlePublisher(kubernetes));
      ca.addTrustBundleListener(new WebhookCaBundlePatcher(kubernetes));
    }
    if (store instanceof DirectoryCaStore) {
      // Local runs: sidecars read the roots to trust for the CA's own certificate from here.
      ca.addTrustBundleListener(
          roots ->
              writeBundle(
                  Path.of(config.store()).resolve("trust-bundle.pem"), Pem.encodeAll(roots)));
    }

    this.servingKeys =
        new ServingKeyManager(ServingCertificate.issue(ca, config.servingNames(), SERVING_TTL));
    var credentials = TlsServerCredentials.newBuilder().keyManager(servingKeys).build();
    this.server =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(config.host(), config.port()), credentials)
            .addService(
                new CertificateServiceImpl(ca, verifier, CaMetrics.NOOP).serviceDefinition())
            .build()
            .start();
    this.upkeep =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("meshwork-ca-upkeep").daemon().unstarted(r));
    upkeep.scheduleWithFixedDelay(this::upkeep, 1, 1, TimeUnit.MINUTES);
    log.info(
        "Meshwork CA serving on {}:{} (trust domain {}, store {})",
        config.host(),
        port(),
        config.trustDomain(),
        store.describe());
  }

  /** Starts a CA with {@code config}; returns once it listens. */
  public static CaServer start(CaServerConfig config) throws IOException {
    return new CaServer(config);
  }

  public int port() {
    return server.getPort();
  }

  public CertificateAuthority authority() {
    return ca;
  }

  private void upkeep() {
    try {
      ca.maintain();
      if (servingKeys.renewIfDue(ca, SERVING_TTL, Instant.now())) {
        log.info("CA serving certificate renewed");
      }
    } catch (RuntimeException e) {
      log.warn("CA upkeep failed; will retry", e);
    }
  }

  private static void writeBundle(Path file, String pem) {
    try {
      Files.writeString(file, pem, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      log.warn("cannot write trust bundle to {}: {}", file, e.getMessage());
    }
  }

  @Override
  public void close() throws InterruptedException {
    upkeep.shutdownNow();
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
    if (kubernetes != null) {
      kubernetes.close();
    }
  }

  /** Runs until the JVM is stopped. */
  public static void main(String[] args) throws Exception {
    CaServer server = start(CaServerConfig.fromEnvironment(System::getenv));
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform()
                .unstarted(
                    () -> {
                      try {
                        server.close();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }));
    server.server.awaitTermination();
  }
}
