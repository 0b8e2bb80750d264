package dev.meshwork.controlplane;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.logging.LogFormat;
import dev.meshwork.controlplane.ca.EmbeddedCa;
import dev.meshwork.controlplane.source.ConfigSource;
import dev.meshwork.controlplane.source.DirectoryConfigSource;
import dev.meshwork.controlplane.source.KubernetesConfigSource;
import dev.meshwork.controlplane.status.LeaderElection;
import dev.meshwork.controlplane.status.StatusWriter;
import dev.meshwork.controlplane.telemetry.ControlPlaneTelemetry;
import dev.meshwork.controlplane.webhook.HostedWebhook;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code control-plane [--config-dir DIR] [--grpc-port 15012] [--http-port 15014] ...}. */
@Command(
    name = "meshwork-control-plane",
    mixinStandardHelpOptions = true,
    description = "Watches Kubernetes (or a YAML folder), translates to xDS and serves ADS.")
public final class ControlPlaneMain implements Callable<Integer> {

  @Option(
      names = "--config-dir",
      description = "Read config from this folder of YAML instead of Kubernetes.")
  Path configDir;

  @Option(names = "--grpc-port", description = "ADS port (default ${DEFAULT-VALUE}).")
  int grpcPort = MeshConstants.CONTROL_PLANE_GRPC_PORT;

  @Option(names = "--http-port", description = "Debug/health port (default ${DEFAULT-VALUE}).")
  int httpPort = MeshConstants.CONTROL_PLANE_HTTP_PORT;

  @Option(names = "--bind", description = "Address to listen on (default ${DEFAULT-VALUE}).")
  String bind = "0.0.0.0";

  @Option(names = "--plaintext", description = "Serve ADS without TLS (local runs only).")
  boolean plaintext;

  @Option(names = "--tls-cert", description = "PEM certificate chain for the ADS port.")
  File tlsCert;

  @Option(names = "--tls-key", description = "PEM private key for the ADS port.")
  File tlsKey;

  @Option(
      names = "--debounce",
      description = "Quiet time before a change is pushed, ms (default ${DEFAULT-VALUE}).")
  long debounceMillis = 100;

  @Option(names = "--trust-domain", description = "SPIFFE trust domain (default ${DEFAULT-VALUE}).")
  String trustDomain = MeshConstants.DEFAULT_TRUST_DOMAIN;

  @Option(
      names = "--ca-dir",
      description =
          "Local runs: keep the CA's root and intermediate in this folder (created on first start)"
              + " and write the trust bundle to roots.pem in it. In a cluster the CA uses the"
              + " meshwork-ca Secret.")
  Path caDir;

  @Option(
      names = "--static-tokens",
      description =
          "Local runs only: a properties file of token=namespace/serviceaccount that stands in for"
              + " TokenReview. Never in a cluster.")
  Path staticTokens;

  @Option(
      names = "--webhook",
      negatable = true,
      description =
          "Serve the sidecar injector (HTTPS, certificate from the CA) on --webhook-port."
              + " Default: on in a cluster, off with --config-dir.")
  Boolean webhook;

  @Option(
      names = "--webhook-port",
      description = "Sidecar injector port (default ${DEFAULT-VALUE}).")
  int webhookPort = MeshConstants.CONTROL_PLANE_WEBHOOK_PORT;

  @Override
  public Integer call() throws Exception {
    if (configDir != null && (caDir == null) != (staticTokens == null)) {
      System.err.println(
          "A local CA needs both --ca-dir and --static-tokens (or neither, for no CA).");
      return 2;
    }
    KubernetesClient client = configDir == null ? new KubernetesClientBuilder().build() : null;
    // The CA lives in this process, like istiod's: the CSR service shares the ADS port and the
    // port's TLS certificate comes from the same root the sidecars trust.
    // Metrics on 15014/metrics; the CA and the webhook report into it from their first request.
    ControlPlaneTelemetry telemetry = ControlPlaneTelemetry.fromEnvironment();
    EmbeddedCa ca = null;
    if (client != null) {
      ca = EmbeddedCa.inCluster(client, trustDomain, telemetry.caMetrics());
    } else if (caDir != null) {
      ca = EmbeddedCa.local(caDir, staticTokens, trustDomain, telemetry.caMetrics());
      ca.writeTrustBundle(caDir.resolve("roots.pem"));
    }
    ServerCredentials credentials;
    if (plaintext) {
      credentials = InsecureServerCredentials.create();
    } else if (tlsCert != null && tlsKey != null) {
      credentials = TlsServerCredentials.create(tlsCert, tlsKey);
    } else if (ca != null) {
      credentials = ca.servingCredentials();
    } else {
      System.err.println(
          "ADS needs TLS: pass --ca-dir and --static-tokens (a local CA), --tls-cert and"
              + " --tls-key, or --plaintext for a local run.");
      return 2;
    }
    boolean serveWebhook = webhook != null ? webhook : client != null;
    if (serveWebhook && ca == null) {
      System.err.println(
          "The sidecar injector serves a certificate from the CA: pass --ca-dir and"
              + " --static-tokens for a local run, or --no-webhook.");
      return 2;
    }
    HostedWebhook injector =
        serveWebhook
            ? HostedWebhook.start(
                new HostedWebhook.Settings(
                    new InetSocketAddress(bind, webhookPort),
                    InjectorConfig.defaults().withTrustDomain(trustDomain)),
                ca::servingCredentials,
                telemetry.webhookListener())
            : null;
    Duration debounce = Duration.ofMillis(debounceMillis);
    ControlPlane.Options options =
        new ControlPlane.Options(
            new InetSocketAddress(bind, grpcPort),
            new InetSocketAddress(bind, httpPort),
            credentials,
            ca == null ? List.of() : List.of(csrService(ca)),
            debounce,
            trustDomain);
    ConfigSource source;
    StatusWriter writer = null;
    LeaderElection election = null;
    if (configDir != null) {
      source = new DirectoryConfigSource(configDir, debounce);
    } else {
      source = new KubernetesConfigSource(client, debounce, Duration.ofMinutes(2));
      String identity =
          System.getenv()
              .getOrDefault("POD_NAME", java.net.InetAddress.getLocalHost().getHostName());
      election = new LeaderElection(client, identity, System.getenv().get("POD_NAMESPACE"));
      writer = new StatusWriter(client, election::isLeader, Clock.systemUTC());
    }
    ControlPlane cp = ControlPlane.start(source, options, writer);
    telemetry.observe(cp);
    if (election != null) {
      StatusWriter w = writer;
      election.start(w::rewriteAll);
    }
    EmbeddedCa embeddedCa = ca;
    if (embeddedCa != null) {
      // CA upkeep (rotation phases, 15012/15017 certificate renewal) and, in a cluster, the trust
      // bundle ConfigMaps and the webhook caBundle; only the leader writes.
      LeaderElection leading = election;
      embeddedCa.start(leading == null ? () -> true : leading::isLeader);
    }
    CountDownLatch stop = new CountDownLatch(1);
    LeaderElection e = election;
    KubernetesClient c = client;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (e != null) {
                    e.close();
                  }
                  cp.close();
                  if (embeddedCa != null) {
                    embeddedCa.close();
                  }
                  telemetry.close();
                  if (injector != null) {
                    injector.close();
                  }
                  if (c != null) {
                    c.close();
                  }
                  stop.countDown();
                }));
    stop.await();
    return 0;
  }

  private static BindableService csrService(EmbeddedCa ca) {
    return ca::csrService;
  }

  public static void main(String[] args) {
    LogFormat.requireValidEnvironment();
    // Quiet defaults (INFO, fabric8/grpc at WARN) unless the operator points logback elsewhere.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "meshwork-control-plane-logback.xml");
    }
    System.exit(new CommandLine(new ControlPlaneMain()).execute(args));
  }
}
