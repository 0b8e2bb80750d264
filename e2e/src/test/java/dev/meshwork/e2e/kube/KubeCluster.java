package dev.meshwork.e2e.kube;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real, single-node Kubernetes control plane made of processes on loopback: etcd, kube-apiserver
 * (RBAC, ServiceAccount token signing, TokenReview, admission webhooks) and kube-controller-manager
 * (EndpointSlice, ServiceAccount and token, namespace, garbage collector, root CA publisher), with
 * the Gateway API CRDs and our own CRDs applied from {@code manifests/}.
 *
 * <p>There is no scheduler, kubelet or kube-proxy: tests set {@code nodeName} and run pods with
 * {@link dev.meshwork.e2e.node.ProcessKubelet}. {@link #close()} stops every process and deletes
 * the temporary directory. Thread-safe after {@link #start}.
 */
public final class KubeCluster implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KubeCluster.class);

  /** The Service CIDR; its first address is the {@code kubernetes} Service. */
  public static final String SERVICE_CIDR = "10.96.0.0/16";

  /** ServiceAccount token issuer, as in a default cluster. */
  public static final String ISSUER = "https://kubernetes.default.svc.cluster.local";

  /** Field manager for everything the harness applies. */
  public static final String FIELD_MANAGER = "meshwork-e2e";

  private static final List<String> CONTROLLERS =
      List.of(
          "endpointslice-controller",
          "endpointslice-mirroring-controller",
          "serviceaccount-controller",
          "serviceaccount-token-controller",
          "namespace-controller",
          "garbage-collector-controller",
          "root-ca-certificate-publisher-controller");

  private final Path dir;
  private final KubeBinaries binaries;
  private final List<ManagedProcess> processes = new ArrayList<>();
  private ClusterPki pki;
  private int apiPort;
  private KubernetesClient client;
  private Path adminKubeconfig;

  private KubeCluster(Path dir, KubeBinaries binaries) {
    this.dir = dir;
    this.binaries = binaries;
  }

  /** Starts etcd, the API server and the controller manager, then applies the CRDs. */
  public static KubeCluster start(KubeBinaries binaries) {
    long t0 = System.nanoTime();
    KubeCluster c;
    try {
      c = new KubeCluster(Files.createTempDirectory("meshwork-kube-"), binaries);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      c.startAll();
    } catch (Exception | Error e) {
      c.close();
      throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
    }
    log.info(
        "Kubernetes {} up at {} in {} ms (logs in {})",
        binaries.version(),
        c.url(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        c.dir.resolve("logs"));
    return c;
  }

  private void startAll() throws Exception {
    pki = ClusterPki.create(dir.resolve("pki"), "10.96.0.1");
    Path logs = dir.resolve("logs");

    int etcdClient = freePort();
    int etcdPeer = freePort();
    String etcdUrl = "http://127.0.0.1:" + etcdClient;
    String peerUrl = "http://127.0.0.1:" + etcdPeer;
    ManagedProcess etcd =
        launch(
            "etcd",
            List.of(
                binaries.etcd().toString(),
                "--name=e2e",
                "--data-dir=" + dir.resolve("etcd"),
                "--listen-client-urls=" + etcdUrl,
                "--advertise-client-urls=" + etcdUrl,
                "--listen-peer-urls=" + peerUrl,
                "--initial-advertise-peer-urls=" + peerUrl,
                "--initial-cluster=e2e=" + peerUrl,
                // Test data is thrown away: skipping fsync keeps etcd fast on a busy disk.
                "--unsafe-no-fsync",
                "--log-level=warn"),
            logs);
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    waitFor(etcd, plain, URI.create(etcdUrl + "/health"), Duration.ofSeconds(30));

    apiPort = freePort();
    ManagedProcess apiServer =
        launch(
            "kube-apiserver",
            List.of(
                binaries.kubeApiServer().toString(),
                "--etcd-servers=" + etcdUrl,
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                // The endpoint reconciler refuses a loopback address for the `kubernetes`
                // Service; nothing in a pod can reach 127.0.0.1 of the host anyway.
                "--endpoint-reconciler-type=none",
                "--secure-port=" + apiPort,
                "--cert-dir=" + dir.resolve("apiserver-certs"),
                "--tls-cert-file=" + pki.apiServer().certFile(),
                "--tls-private-key-file=" + pki.apiServer().keyFile(),
                "--client-ca-file=" + pki.ca().certFile(),
                "--authorization-mode=RBAC",
                "--anonymous-auth=false",
                "--service-account-issuer=" + ISSUER,
                "--service-account-key-file=" + pki.serviceAccountPub(),
                "--service-account-signing-key-file=" + pki.serviceAccountKey(),
                "--service-cluster-ip-range=" + SERVICE_CIDR,
                // Default admission plugins stay on (ServiceAccount, Mutating/Validating
                // webhooks, ValidatingAdmissionPolicy, ...).
                "--allow-privileged=true",
                // No kube-proxy: reach webhook Services through their endpoints, not a ClusterIP.
                "--enable-aggregator-routing=true",
                "--profiling=false",
                "--v=1"),
            logs);
    SSLContext ssl = pki.sslContext(pki.admin());
    HttpClient tls =
        HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(2)).build();
    waitFor(apiServer, tls, URI.create(url() + "/readyz"), Duration.ofSeconds(90));

    adminKubeconfig = writeKubeconfig("admin", pki.admin());
    client = newClient();

    applyManifests();

    Path kcmConfig = writeKubeconfig("kube-controller-manager", pki.controllerManager());
    ManagedProcess kcm =
        launch(
            "kube-controller-manager",
            List.of(
                binaries.kubeControllerManager().toString(),
                "--kubeconfig=" + kcmConfig,
                "--controllers=" + String.join(",", CONTROLLERS),
                "--use-service-account-credentials=true",
                "--service-account-private-key-file=" + pki.serviceAccountKey(),
                "--root-ca-file=" + pki.ca().certFile(),
                "--leader-elect=false",
                "--secure-port=0",
                "--v=1"),
            logs);
    // The ServiceAccount controller creating "default" proves the controller manager runs.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (client.serviceAccounts().inNamespace("default").withName("default").get() == null) {
      if (!kcm.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "kube-controller-manager did not create ServiceAccount default/default:\n"
                + kcm.logTail(30));
      }
      Thread.sleep(100);
    }
  }

  private void applyManifests() throws IOException {
    Path root = KubeBinaries.repoRoot().resolve("manifests");
    List<Path> files = new ArrayList<>();
    for (String sub : List.of("gateway-api", "crds")) {
      Path d = root.resolve(sub);
      if (Files.isDirectory(d)) {
        try (Stream<Path> s = Files.list(d)) {
          s.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(files::add);
        }
      }
    }
    List<String> crds = new ArrayList<>();
    for (Path f : files) {
      crds.addAll(apply(f));
    }
    for (String crd : crds) {
      client
          .apiextensions()
          .v1()
          .customResourceDefinitions()
          .withName(crd)
          .waitUntilCondition(KubeCluster::established, 30, TimeUnit.SECONDS);
    }
    log.info("applied {} manifest files ({} CRDs established)", files.size(), crds.size());
  }

  /**
   * Server-side applies every object of a YAML file (field manager {@value #FIELD_MANAGER}).
   *
   * @return the names of the CustomResourceDefinitions among them
   */
  public List<String> apply(Path yaml) throws IOException {
    List<String> crds = new ArrayList<>();
    try (InputStream in = Files.newInputStream(yaml)) {
      for (HasMetadata item : client.load(in).items()) {
        client.resource(item).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
        if (item instanceof CustomResourceDefinition) {
          crds.add(item.getMetadata().getName());
        }
      }
    }
    return crds;
  }

  private static boolean established(CustomResourceDefinition crd) {
    return crd != null
        && crd.getStatus() != null
        && crd.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Established") && c.getStatus().equals("True"));
  }

  /** The API server's URL, {@code https://127.0.0.1:<port>}. */
  public String url() {
    return "https://127.0.0.1:" + apiPort;
  }

  public String version() {
    return binaries.version();
  }

  public ClusterPki pki() {
    return pki;
  }

  /** A kubeconfig file for the admin user (group {@code system:masters}). */
  public Path adminKubeconfig() {
    return adminKubeconfig;
  }

  /** The shared admin client. Do not close it; the cluster does. */
  public KubernetesClient client() {
    return client;
  }

  /** A new admin client, for code under test that owns and closes its client. */
  public KubernetesClient newClient() {
    return new KubernetesClientBuilder().withConfig(adminConfig()).build();
  }

  /** A fabric8 config for the admin user, not read from any file or environment. */
  public Config adminConfig() {
    return new ConfigBuilder(Config.empty())
        .withMasterUrl(url())
        .withCaCertData(b64(pki.ca().certPem()))
        .withClientCertData(b64(pki.admin().certPem()))
        .withClientKeyData(b64(pki.admin().keyPem()))
        .withClientKeyAlgo("RSA")
        .withNamespace("default")
        .withRequestTimeout(30_000)
        .withConnectionTimeout(5_000)
        .build();
  }

  /** Every control-plane process, in start order; tests use it to read their logs. */
  public List<ManagedProcess> processes() {
    return List.copyOf(processes);
  }

  private Path writeKubeconfig(String user, ClusterPki.Issued cert) throws IOException {
    String yaml =
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: e2e
          cluster:
            server: %s
            certificate-authority: %s
        users:
        - name: %s
          user:
            client-certificate: %s
            client-key: %s
        contexts:
        - name: e2e
          context: {cluster: e2e, user: %s}
        current-context: e2e
        """
            .formatted(url(), pki.ca().certFile(), user, cert.certFile(), cert.keyFile(), user);
    Path file = dir.resolve(user + ".kubeconfig");
    Files.writeString(file, yaml);
    return file;
  }

  private ManagedProcess launch(String name, List<String> command, Path logs) throws IOException {
    ManagedProcess p = ManagedProcess.start(name, command, logs.resolve(name + ".log"), Map.of());
    processes.add(p);
    return p;
  }

  private static void waitFor(ManagedProcess p, HttpClient http, URI uri, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException(
            p.name() + " exited with " + p.process().exitValue() + ":\n" + p.logTail(20));
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        last = r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        p.name()
            + " not ready at "
            + uri
            + " after "
            + timeout
            + " ("
            + last
            + "):\n"
            + p.logTail(20));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String b64(String pem) {
    return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
  }

  /** Stops the controller manager, the API server and etcd (reverse order), deletes the dir. */
  @Override
  public void close() {
    long t0 = System.nanoTime();
    if (client != null) {
      client.close();
    }
    // The controller manager and the API server stop together, then etcd; their data is
    // thrown away, so a short grace period is enough.
    List<Thread> stopping = new ArrayList<>();
    for (ManagedProcess p : processes) {
      if (!p.name().equals("etcd")) {
        stopping.add(Thread.ofVirtual().start(() -> p.stop(Duration.ofSeconds(3))));
      }
    }
    for (Thread t : stopping) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    processes.forEach(ManagedProcess::close);
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    log.info("Kubernetes stopped in {} ms", ms);
    if (Boolean.getBoolean("meshwork.e2e.keep")) {
      log.info("kept {} (-Dmeshwork.e2e.keep=true)", dir);
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("could not delete {}: {}", dir, e.toString());
    }
  }
}
