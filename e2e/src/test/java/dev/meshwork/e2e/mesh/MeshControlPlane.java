package dev.meshwork.e2e.mesh;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.e2e.kube.KubeBinaries;
import dev.meshwork.e2e.kube.KubeCluster;
import dev.meshwork.e2e.kube.ManagedProcess;
import dev.meshwork.e2e.node.JavaImage;
import dev.meshwork.e2e.node.ProcessKubelet;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh's control plane as a cluster runs it: {@code ControlPlaneMain} (the shipped entry point,
 * no {@code --config-dir}) as a process of its own, reading the real API server with the
 * credentials of its ServiceAccount {@code meshwork-system/meshwork-control-plane} (a TokenRequest
 * token in a kubeconfig, the RBAC of {@code manifests/install}), its CA keeping the root in the
 * {@code meshwork-ca} Secret and proving every caller with TokenReview.
 *
 * <p>It listens on the node's bridge address (ADS + CA on 15012, health on 15014), which pods
 * reach; every pod's {@code /etc/hosts} maps {@code meshwork-control-plane.meshwork-system.svc}
 * there (the node's stand-in for cluster DNS), so sidecars use the name the injector gives them and
 * verify it against the control plane's certificate. There is no kube-proxy to route a ClusterIP to
 * it.
 */
public final class MeshControlPlane implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MeshControlPlane.class);

  public static final String NAME = "meshwork-control-plane";
  public static final String HOST = NAME + "." + MeshConstants.SYSTEM_NAMESPACE + ".svc";

  private final ManagedProcess process;
  private final String address;
  private final KubernetesClient client;

  private MeshControlPlane(ManagedProcess process, String address, KubernetesClient client) {
    this.process = process;
    this.address = address;
    this.client = client;
  }

  /**
   * Starts the control plane for {@code node}'s pods: identity and RBAC, the process on the node's
   * bridge address, and the node's host entry for its Service name. Returns once it is healthy.
   */
  public static MeshControlPlane start(KubeCluster cluster, ProcessKubelet node, Path workDir)
      throws IOException, InterruptedException {
    KubernetesClient client = cluster.client();
    // The install as shipped: namespace, ServiceAccount, RBAC, Service (and a Deployment that no
    // controller runs here: this process stands in for its pod).
    applyAll(cluster, KubeBinaries.repoRoot().resolve("manifests/install"));
    Path kubeconfig = workDir.resolve("control-plane.kubeconfig");
    Files.createDirectories(workDir);
    Files.writeString(kubeconfig, kubeconfig(cluster, token(client)));
    String bind = node.network().gateway();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(
        List.of(
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            String.join(":", JavaImage.classpath().stream().map(Path::toString).toList()),
            "dev.meshwork.controlplane.ControlPlaneMain",
            "--bind=" + bind));
    ManagedProcess p =
        ManagedProcess.start(
            "control-plane",
            cmd,
            workDir.resolve("control-plane.log"),
            Map.of(
                "KUBECONFIG",
                kubeconfig.toString(),
                "POD_NAMESPACE",
                MeshConstants.SYSTEM_NAMESPACE,
                "POD_NAME",
                NAME + "-e2e"));
    MeshControlPlane cp = new MeshControlPlane(p, bind, client);
    try {
      cp.awaitHealthy(Duration.ofSeconds(90));
    } catch (RuntimeException | InterruptedException e) {
      cp.close();
      throw e;
    }
    node.addHostEntry(bind, HOST, HOST + ".cluster.local");
    publishEndpoint(client, bind);
    log.info("control plane up at {}:15012 (log {})", bind, p.log());
    return cp;
  }

  /** Server-side applies every YAML file of a folder, in name order. */
  static void applyAll(KubeCluster cluster, Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        cluster.apply(f);
      }
    }
  }

  /**
   * The control plane Service's endpoint: the address of the process that stands in for its pod (no
   * Deployment controller runs the install's Deployment). The API server reaches the webhook
   * through it ({@code --enable-aggregator-routing} resolves Services to their endpoints).
   */
  private static void publishEndpoint(KubernetesClient client, String ip) {
    String ns = MeshConstants.SYSTEM_NAMESPACE;
    List<EndpointPort> ports =
        List.of(
            port("grpc-xds", MeshConstants.CONTROL_PLANE_GRPC_PORT),
            port("http-monitoring", MeshConstants.CONTROL_PLANE_HTTP_PORT),
            port("https-webhook", MeshConstants.CONTROL_PLANE_WEBHOOK_PORT));
    client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(ns)
        .resource(
            new EndpointSliceBuilder()
                .withNewMetadata()
                .withName(NAME + "-e2e")
                .addToLabels("kubernetes.io/service-name", NAME)
                .addToLabels("endpointslice.kubernetes.io/managed-by", "meshwork-e2e")
                .endMetadata()
                .withAddressType("IPv4")
                .addNewEndpoint()
                .withAddresses(ip)
                .withNewConditions()
                .withReady(true)
                .endConditions()
                .endEndpoint()
                .withPorts(ports)
                .build())
        .serverSideApply();
    // The same as a (legacy) Endpoints object, for resolvers that still read those.
    client
        .endpoints()
        .inNamespace(ns)
        .resource(
            new EndpointsBuilder()
                .withNewMetadata()
                .withName(NAME)
                .endMetadata()
                .addNewSubset()
                .addNewAddress()
                .withIp(ip)
                .endAddress()
                .withPorts(
                    ports.stream()
                        .map(
                            p ->
                                new io.fabric8.kubernetes.api.model.EndpointPortBuilder()
                                    .withName(p.getName())
                                    .withPort(p.getPort())
                                    .build())
                        .toList())
                .endSubset()
                .build())
        .serverSideApply();
  }

  private static EndpointPort port(String name, int port) {
    return new EndpointPortBuilder().withName(name).withPort(port).withProtocol("TCP").build();
  }

  /**
   * Waits for the trust bundle ConfigMap the control plane publishes in a meshed namespace (the
   * injected sidecars mount it): part of what the scenarios prove.
   */
  public void awaitTrustBundle(KubernetesClient client, String namespace)
      throws InterruptedException {
    String name = MeshConstants.TRUST_BUNDLE_CONFIG_MAP;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (client.configMaps().inNamespace(namespace).withName(name).get() == null) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "the control plane published no ConfigMap "
                + namespace
                + "/"
                + name
                + " within 30 s of the namespace being labelled:\n"
                + process.logTail(30));
      }
      Thread.sleep(200);
    }
  }

  /** The address pods reach it at (the node's bridge address). */
  public String address() {
    return address;
  }

  public Path logFile() {
    return process.log();
  }

  public String logTail(int lines) {
    return process.logTail(lines);
  }

  private void awaitHealthy(Duration timeout) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    URI health =
        URI.create("http://" + address + ":" + MeshConstants.CONTROL_PLANE_HTTP_PORT + "/healthz");
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "control plane exited with "
                + process.process().exitValue()
                + ":\n"
                + process.logTail(40));
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        last = r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        "control plane not healthy at " + health + " (" + last + "):\n" + process.logTail(40));
  }

  private static String token(KubernetesClient client) {
    return client
        .serviceAccounts()
        .inNamespace(MeshConstants.SYSTEM_NAMESPACE)
        .withName(NAME)
        .tokenRequest(
            new TokenRequestBuilder().withNewSpec().withExpirationSeconds(7200L).endSpec().build())
        .getStatus()
        .getToken();
  }

  private static String kubeconfig(KubeCluster cluster, String token) {
    String ca =
        Base64.getEncoder()
            .encodeToString(cluster.pki().ca().certPem().getBytes(StandardCharsets.UTF_8));
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: e2e
          cluster: {server: "%s", certificate-authority-data: "%s"}
        users:
        - name: %s
          user: {token: "%s"}
        contexts:
        - name: e2e
          context: {cluster: e2e, user: %s, namespace: %s}
        current-context: e2e
        """
        .formatted(cluster.url(), ca, NAME, token, NAME, MeshConstants.SYSTEM_NAMESPACE);
  }

  @Override
  public void close() {
    process.stop(Duration.ofSeconds(5));
    process.close();
    // The cluster outlives this class: an endpoint left behind names an address whose bridge is
    // gone, and the API server would pick it for the next test's webhook Service among the live
    // ones (traffic to it leaves the machine by the default route).
    try {
      client
          .discovery()
          .v1()
          .endpointSlices()
          .inNamespace(MeshConstants.SYSTEM_NAMESPACE)
          .withName(NAME + "-e2e")
          .delete();
      client.endpoints().inNamespace(MeshConstants.SYSTEM_NAMESPACE).withName(NAME).delete();
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      log.warn("could not delete the control plane's endpoints: {}", e.toString());
    }
  }

  /** For failure messages: the last lines of the control plane's log. */
  @Override
  public String toString() {
    return "control plane at " + address + " (log " + process.log() + ")";
  }
}
