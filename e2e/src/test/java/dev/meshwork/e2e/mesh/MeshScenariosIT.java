package dev.meshwork.e2e.mesh;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.e2e.kube.KubeApiServerTest;
import dev.meshwork.e2e.kube.KubeCluster;
import dev.meshwork.e2e.kube.Prerequisites;
import dev.meshwork.e2e.node.ProcessKubelet;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

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
    injector = MeshInjector.start(cluster, RUN);
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
  }

  @Override
  protected Testbed testbed() {
    return testbed;
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
