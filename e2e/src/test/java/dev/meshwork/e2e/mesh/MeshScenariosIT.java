package dev.meshwork.e2e.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.e2e.kube.KubeApiServerTest;
import dev.meshwork.e2e.kube.KubeCluster;
import dev.meshwork.e2e.kube.Prerequisites;
import dev.meshwork.e2e.node.ProcessKubelet;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The mesh in pods on the process kubelet: the control plane against the real API server, pods
 * injected by our webhook through the API server, capture by real iptables in each pod's network
 * namespace, sidecars as UID 1337 with certificates from the mesh CA (TokenReview), calls dialled
 * at Service ClusterIPs with no kube-proxy. The scenarios themselves are in {@link MeshScenarios}.
 */
@KubeApiServerTest
@Tag("netns")
class MeshScenariosIT extends MeshScenarios {
  private static final String RUN = UUID.randomUUID().toString().substring(0, 6);
  private static ProcessKubelet node;
  private static MeshControlPlane controlPlane;
  private static MeshInjector injector;
  private static Path workDir;
  private static ProcessTestbed testbed;

  @BeforeAll
  static void start(KubeCluster cluster, KubernetesClient client) throws Exception {
    Prerequisites.require(Prerequisites.isRoot(), "the process kubelet needs root");
    workDir = Files.createTempDirectory("meshwork-mesh-");
    node = ProcessKubelet.start(client, "node-mesh-" + RUN);
    String[] jvm = {
      "-Xmx128m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      "--enable-native-access=ALL-UNNAMED"
    };
    // The images' entry points: the sidecar image runs SidecarMain (`run`, or `capture` in the
    // init container), as its Jib image does; the test apps run their mains.
    node.registerJavaMain(
            InjectorConfig.bundledSidecarImage(), "dev.meshwork.sidecar.SidecarMain", jvm)
        .registerJavaMain(MeshWorkloads.GREETER_IMAGE, MeshWorkloads.GREETER_MAIN, jvm)
        .registerJavaMain(MeshWorkloads.CALLER_IMAGE, MeshWorkloads.CALLER_MAIN, jvm);
    controlPlane = MeshControlPlane.start(cluster, node, workDir);
    injector = MeshInjector.start(cluster);
    testbed = new ProcessTestbed(client, node, controlPlane, RUN);
    testbed.deploy();
  }

  @AfterAll
  static void stop(KubernetesClient client) {
    if (testbed != null) {
      testbed.deleteNamespaces();
    }
    if (injector != null) {
      injector.close();
    }
    if (node != null) {
      node.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
    if (workDir != null && !Boolean.getBoolean("meshwork.e2e.keep")) {
      try (Stream<Path> files = Files.walk(workDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // a temporary directory; the log names it
      }
    }
  }

  @Override
  protected Testbed testbed() {
    return testbed;
  }

  /**
   * What a user checks on a node: the capture init container ran to completion, the native sidecar
   * runs as UID 1337 (which the capture rules exclude) and started before the app, and the app's
   * call to a ClusterIP went through the capture's REDIRECT to 15001, there being no kube-proxy.
   */
  @Test
  void injectedPodRunsCaptureThenSidecarAsItsOwnUidAndCallsLeaveThroughTheCapture(
      KubernetesClient client) throws Exception {
    Pod caller = client.pods().inNamespace(testbed.meshNamespace()).withName("caller").get();
    ContainerStatus init = initStatus(caller, MeshConstants.INIT_CONTAINER_NAME);
    assertThat(init.getState().getTerminated()).as("capture init container").isNotNull();
    assertThat(init.getState().getTerminated().getExitCode()).isZero();
    ContainerStatus proxy = initStatus(caller, MeshConstants.SIDECAR_CONTAINER_NAME);
    assertThat(proxy.getState().getRunning()).as("native sidecar").isNotNull();
    ContainerStatus app = caller.getStatus().getContainerStatuses().getFirst();
    assertThat(Instant.parse(proxy.getState().getRunning().getStartedAt()))
        .as("the sidecar starts before the app")
        .isBeforeOrEqualTo(Instant.parse(app.getState().getRunning().getStartedAt()));
    long pid = Long.parseLong(proxy.getContainerID().substring("process://".length()));
    assertThat(Files.readAllLines(Path.of("/proc/" + pid + "/status")))
        .as("the sidecar's process credentials")
        .anyMatch(l -> l.matches("Uid:\\s+1337\\s+1337\\s+1337\\s+1337"));

    String netns = node.netnsOf(caller.getMetadata().getUid());
    assertThat(natRules(netns))
        .as("capture rules in the pod's network namespace")
        .anyMatch(r -> r.contains("--uid-owner 1337") && r.endsWith("-j RETURN"))
        .anyMatch(r -> r.contains("-j REDIRECT --to-ports 15001"))
        .anyMatch(r -> r.contains("-j REDIRECT --to-ports 15006"));
    long before = redirectedTo(netns, 15001);
    var calls =
        testbed.call(Testbed.Caller.MESHED, testbed.serviceAddress("greeter"), 5, null, true);
    assertThat(calls.ok()).as("%s", calls).isEqualTo(5);
    assertThat(redirectedTo(netns, 15001))
        .as("connections the capture redirected to the sidecar's 15001")
        .isGreaterThan(before);
  }

  private static ContainerStatus initStatus(Pod pod, String name) {
    return pod.getStatus().getInitContainerStatuses().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no init container status " + name));
  }

  private static List<String> natRules(String netns) throws Exception {
    Process p =
        new ProcessBuilder("ip", "netns", "exec", netns, "iptables-save", "-c", "-t", "nat")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
    return out.lines().toList();
  }

  /** Packets (= new connections, nat sees only the first) the REDIRECT to {@code port} took. */
  private static long redirectedTo(String netns, int port) throws Exception {
    return natRules(netns).stream()
        .filter(r -> r.contains("-j REDIRECT --to-ports " + port))
        .mapToLong(r -> Long.parseLong(r.substring(1, r.indexOf(':'))))
        .sum();
  }

  /** The process harness's testbed: pods on the process kubelet, the caller reached at its IP. */
  static final class ProcessTestbed extends MeshWorkloads {
    private final ProcessKubelet node;
    private final MeshControlPlane controlPlane;

    ProcessTestbed(
        KubernetesClient client, ProcessKubelet node, MeshControlPlane controlPlane, String run) {
      super(client, run, node.nodeName());
      this.node = node;
      this.controlPlane = controlPlane;
    }

    @Override
    protected String callerBaseUrl(Pod caller) {
      // The node reaches pod IPs over its bridge; the control port is excluded from capture.
      return "http://" + caller.getStatus().getPodIP() + ":" + CALLER_PORT;
    }

    @Override
    protected void awaitMeshReady(String namespace) throws InterruptedException {
      controlPlane.awaitTrustBundle(client(), namespace);
    }

    @Override
    protected String diagnostics(String namespace, String pod) {
      StringBuilder sb = new StringBuilder();
      for (String c :
          new String[] {
            MeshConstants.SIDECAR_CONTAINER_NAME, MeshConstants.INIT_CONTAINER_NAME, "app"
          }) {
        Path log = node.logFile(namespace, pod, c);
        if (Files.exists(log)) {
          sb.append("\n--- ")
              .append(pod)
              .append('/')
              .append(c)
              .append(" (")
              .append(log)
              .append(")\n");
          sb.append(tail(log, 25));
        }
      }
      sb.append("\n--- control plane\n").append(controlPlane.logTail(25));
      return sb.toString();
    }
  }
}
