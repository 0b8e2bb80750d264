package dev.meshwork.e2e.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.kube.KubeApiServerTest;
import dev.meshwork.e2e.kube.Prerequisites;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness end to end: a pod created through the API server runs as processes in its own network
 * namespace, becomes Ready with a podIP, and the real EndpointSlice controller publishes it for a
 * matching Service; deleting it stops its processes and removes the endpoint.
 */
@KubeApiServerTest
@Tag("netns")
class ProcessKubeletSmokeIT {
  private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
  private static final String NS = "kubelet-" + SUFFIX;
  private static ProcessKubelet node;

  @BeforeAll
  static void startNode(KubernetesClient client) {
    Prerequisites.require(
        Prerequisites.isRoot(), "the process kubelet needs root (network namespaces, mounts)");
    node = ProcessKubelet.start(client, "node-" + SUFFIX);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    // The ServiceAccount admission plugin refuses pods until the controller made "default".
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.serviceAccounts().inNamespace(NS).withName("default").get() != null);
  }

  @AfterAll
  static void stopNode(KubernetesClient client) {
    if (node != null) {
      node.close();
    }
    client.namespaces().withName(NS).delete();
  }

  @Test
  void podBecomesReadyAndIsPublishedInAnEndpointSlice(KubernetesClient client, @TempDir Path site)
      throws Exception {
    Files.writeString(site.resolve("index.html"), "hello from a process pod\n");
    client
        .services()
        .inNamespace(NS)
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName("web")
                .endMetadata()
                .withNewSpec()
                .addToSelector("app", "web")
                .addNewPort()
                .withName("http")
                .withPort(80)
                .withTargetPort(new IntOrString(8080))
                .endPort()
                .endSpec()
                .build())
        .create();
    String jwebserver = Path.of(System.getProperty("java.home"), "bin", "jwebserver").toString();
    // Pods reach the node at its bridge address (where scenarios bind the control plane).
    java.net.ServerSocket nodeSide =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(node.network().gateway()));
    nodeSide.setSoTimeout(20_000);
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("web-0")
            .addToLabels("app", "web")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node.nodeName())
            .withTerminationGracePeriodSeconds(5L)
            .addNewContainer()
            .withName("web")
            .withImage("jdk/jwebserver")
            .withCommand(
                jwebserver, "-J-Xmx32m", "-b", "0.0.0.0", "-p", "8080", "-d", site.toString())
            .addNewPort()
            .withContainerPort(8080)
            .withName("http")
            .endPort()
            .withNewReadinessProbe()
            .withNewHttpGet()
            .withPath("/index.html")
            .withPort(new IntOrString("http"))
            .endHttpGet()
            .withPeriodSeconds(1)
            .endReadinessProbe()
            .endContainer()
            .addNewContainer()
            .withName("shell")
            .withImage("host/sh")
            .withCommand(
                "sh",
                "-c",
                "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo;"
                    + " ip -4 -o addr show dev eth0;"
                    + " bash -c 'echo hello from $HOSTNAME > /dev/tcp/"
                    + node.network().gateway()
                    + "/"
                    + nodeSide.getLocalPort()
                    + "'; exec sleep 600")
            .endContainer()
            .endSpec()
            .build();
    client.pods().inNamespace(NS).resource(pod).create();

    await("pod web-0 Ready")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> isReady(client.pods().inNamespace(NS).withName("web-0").get()));
    Pod running = client.pods().inNamespace(NS).withName("web-0").get();
    String podIp = running.getStatus().getPodIP();
    assertThat(podIp).startsWith(node.network().cidr().replace("0/24", ""));
    assertThat(running.getStatus().getPhase()).isEqualTo("Running");
    assertThat(running.getStatus().getContainerStatuses())
        .allSatisfy(s -> assertThat(s.getState().getRunning()).isNotNull());

    // The process serves inside the pod's network namespace, at the pod's address.
    HttpResponse<String> page =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://" + podIp + ":8080/index.html"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(page.body()).isEqualTo("hello from a process pod\n");

    // The real EndpointSlice controller publishes the Ready pod for the Service.
    await("EndpointSlice of Service web lists " + podIp)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> readyAddresses(client).contains(podIp));
    Endpoint endpoint =
        slices(client).stream()
            .flatMap(s -> endpoints(s).stream())
            .filter(e -> e.getAddresses().contains(podIp))
            .findFirst()
            .orElseThrow();
    assertThat(endpoint.getTargetRef().getName()).isEqualTo("web-0");
    assertThat(endpoint.getNodeName()).isEqualTo(node.nodeName());
    assertThat(slices(client).get(0).getPorts().get(0).getPort()).isEqualTo(8080);

    // The second container sees the projected ServiceAccount volume at the standard path and
    // lives in the same network namespace.
    Path shellLog = node.logFile(NS, "web-0", "shell");
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(shellLog).contains("inet"));
    assertThat(Files.readString(shellLog)).startsWith(NS + "\n").contains("inet " + podIp + "/24");

    try (nodeSide;
        java.net.Socket fromPod = nodeSide.accept()) {
      assertThat(new String(fromPod.getInputStream().readAllBytes()))
          .isEqualTo("hello from web-0\n");
      assertThat(fromPod.getInetAddress().getHostAddress()).isEqualTo(podIp);
    }

    // Pod to pod over the bridge: a second pod fetches the page from web-0's address.
    client
        .pods()
        .inNamespace(NS)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("client-0")
                .endMetadata()
                .withNewSpec()
                .withNodeName(node.nodeName())
                .withTerminationGracePeriodSeconds(1L)
                .addNewContainer()
                .withName("fetch")
                .withImage("host/bash")
                .withCommand(
                    "bash",
                    "-c",
                    "exec 3<>/dev/tcp/"
                        + podIp
                        + "/8080; printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3;"
                        + " exec sleep 600")
                .endContainer()
                .endSpec()
                .build())
        .create();
    Path fetchLog = node.logFile(NS, "client-0", "fetch");
    await("client-0 fetched the page from web-0")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                Files.exists(fetchLog)
                    && Files.readString(fetchLog).contains("hello from a process pod"));
    client.pods().inNamespace(NS).withName("client-0").delete();

    // The projected token is a real bound token: TokenReview names the ServiceAccount and pod.
    String volume =
        running.getSpec().getVolumes().stream()
            .filter(v -> v.getProjected() != null)
            .findFirst()
            .orElseThrow()
            .getName();
    String token = Files.readString(node.volumeDir(NS, "web-0", volume).resolve("token"));
    TokenReview review =
        client
            .resource(new TokenReviewBuilder().withNewSpec().withToken(token).endSpec().build())
            .create();
    assertThat(review.getStatus().getAuthenticated()).isTrue();
    assertThat(review.getStatus().getUser().getUsername())
        .isEqualTo("system:serviceaccount:" + NS + ":default");
    assertThat(review.getStatus().getUser().getExtra().get("authentication.kubernetes.io/pod-name"))
        .containsExactly("web-0");

    // Deleting the pod stops its processes (SIGTERM) and withdraws the endpoint.
    long pid =
        Long.parseLong(
            running.getStatus().getContainerStatuses().stream()
                .filter(s -> s.getName().equals("web"))
                .findFirst()
                .orElseThrow()
                .getContainerID()
                .substring("process://".length()));
    client.pods().inNamespace(NS).withName("web-0").delete();
    await("pod web-0 gone")
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.pods().inNamespace(NS).withName("web-0").get() == null);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive))
        .isNotEqualTo(java.util.Optional.of(true));
    await("endpoint withdrawn")
        .atMost(Duration.ofSeconds(30))
        .until(() -> !readyAddresses(client).contains(podIp));
  }

  @Test
  void nativeSidecarStartsBeforeTheAppAndCountsForReadiness(
      KubernetesClient client, @TempDir Path site) throws Exception {
    Files.writeString(site.resolve("ready"), "ok\n");
    String jwebserver = Path.of(System.getProperty("java.home"), "bin", "jwebserver").toString();
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("with-sidecar")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node.nodeName())
            .withTerminationGracePeriodSeconds(5L)
            .addNewInitContainer()
            .withName("setup")
            .withImage("host/sh")
            .withCommand("sh", "-c", "exit 0")
            .endInitContainer()
            .addNewInitContainer()
            .withName("proxy")
            .withImage("jdk/jwebserver")
            .withRestartPolicy("Always")
            // Listens only after 2 s: the app must not start before the startup probe passes.
            .withCommand(
                "sh",
                "-c",
                "sleep 2; exec " + jwebserver + " -J-Xmx32m -b 0.0.0.0 -p 15021 -d " + site)
            .withNewStartupProbe()
            .withNewTcpSocket()
            .withPort(new IntOrString(15021))
            .endTcpSocket()
            .withPeriodSeconds(1)
            .withFailureThreshold(30)
            .endStartupProbe()
            .withNewReadinessProbe()
            .withNewHttpGet()
            .withPath("/ready")
            .withPort(new IntOrString(15021))
            .endHttpGet()
            .withPeriodSeconds(1)
            .endReadinessProbe()
            .endInitContainer()
            .addNewContainer()
            .withName("app")
            .withImage("host/sh")
            .withCommand("sleep", "600")
            .endContainer()
            .endSpec()
            .build();
    client.pods().inNamespace(NS).resource(pod).create();

    await("pod with-sidecar Ready")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> isReady(client.pods().inNamespace(NS).withName("with-sidecar").get()));
    Pod running = client.pods().inNamespace(NS).withName("with-sidecar").get();
    var setup = running.getStatus().getInitContainerStatuses().get(0);
    var proxy = running.getStatus().getInitContainerStatuses().get(1);
    var app = running.getStatus().getContainerStatuses().get(0);
    assertThat(setup.getState().getTerminated().getExitCode()).isZero();
    assertThat(proxy.getState().getRunning()).isNotNull();
    assertThat(proxy.getReady()).isTrue();
    java.time.Instant proxyStarted =
        java.time.Instant.parse(proxy.getState().getRunning().getStartedAt());
    java.time.Instant appStarted =
        java.time.Instant.parse(app.getState().getRunning().getStartedAt());
    assertThat(appStarted).isAfterOrEqualTo(proxyStarted.plusSeconds(1));

    client.pods().inNamespace(NS).withName("with-sidecar").delete();
    await("pod with-sidecar gone")
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.pods().inNamespace(NS).withName("with-sidecar").get() == null);
  }

  @Test
  void javaWorkloadRunsAsTheRequestedUser(KubernetesClient client) throws Exception {
    node.registerJavaMain("meshwork-e2e/echo", TcpEchoMain.class.getName(), "-Xmx32m");
    client
        .pods()
        .inNamespace(NS)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("echo-0")
                .endMetadata()
                .withNewSpec()
                .withNodeName(node.nodeName())
                .withTerminationGracePeriodSeconds(2L)
                .addNewContainer()
                .withName("echo")
                .withImage("meshwork-e2e/echo")
                .withArgs("7070")
                .withNewSecurityContext()
                .withRunAsUser(1337L)
                .withRunAsGroup(1337L)
                .endSecurityContext()
                .withNewReadinessProbe()
                .withNewTcpSocket()
                .withPort(new IntOrString(7070))
                .endTcpSocket()
                .withPeriodSeconds(1)
                .endReadinessProbe()
                .endContainer()
                .endSpec()
                .build())
        .create();
    await("echo-0 Ready")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> isReady(client.pods().inNamespace(NS).withName("echo-0").get()));
    Pod running = client.pods().inNamespace(NS).withName("echo-0").get();

    try (java.net.Socket s = new java.net.Socket(running.getStatus().getPodIP(), 7070)) {
      s.getOutputStream().write("ping".getBytes());
      s.shutdownOutput();
      assertThat(new String(s.getInputStream().readAllBytes())).isEqualTo("echo-0:ping");
    }
    long pid =
        Long.parseLong(
            running
                .getStatus()
                .getContainerStatuses()
                .get(0)
                .getContainerID()
                .substring("process://".length()));
    assertThat(Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")))
        .filteredOn(l -> l.startsWith("Uid:"))
        .singleElement()
        .satisfies(l -> assertThat(l.split("\\s+")[1]).isEqualTo("1337"));

    client.pods().inNamespace(NS).withName("echo-0").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> client.pods().inNamespace(NS).withName("echo-0").get() == null);
  }

  private static boolean isReady(Pod p) {
    return p != null
        && p.getStatus() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  private static List<EndpointSlice> slices(KubernetesClient client) {
    return client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(NS)
        .withLabel("kubernetes.io/service-name", "web")
        .list()
        .getItems();
  }

  private static List<Endpoint> endpoints(EndpointSlice slice) {
    return slice.getEndpoints() == null ? List.of() : slice.getEndpoints();
  }

  private static List<String> readyAddresses(KubernetesClient client) {
    return slices(client).stream()
        .flatMap(s -> endpoints(s).stream())
        .filter(e -> e.getConditions() != null && Boolean.TRUE.equals(e.getConditions().getReady()))
        .flatMap(e -> e.getAddresses().stream())
        .toList();
  }
}
