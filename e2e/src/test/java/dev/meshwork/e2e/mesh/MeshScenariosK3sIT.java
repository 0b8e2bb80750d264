package dev.meshwork.e2e.mesh;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.e2e.k3s.K3s;
import dev.meshwork.e2e.kube.KubeBinaries;
import dev.meshwork.e2e.node.JavaImage;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.LocalPortForward;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.k3s.K3sContainer;

/**
 * The same {@link MeshScenarios} on a real k3s cluster in Docker (scheduler, kubelet, kube-proxy,
 * CoreDNS), installed from {@code manifests/} as a user installs it: CRDs, {@code install/} (the
 * control plane Deployment) and {@code webhook/}. Skips with one line where no Docker engine runs.
 *
 * <p>Images: the control plane and the sidecar are the Jib images in the local Docker daemon
 * ({@code ./mvnw -pl control-plane,sidecar-proxy -am package jib:dockerBuild -DskipTests}); the
 * test apps (greeter, caller) are built here from the test classpath. All are loaded into k3s's
 * containerd. Not run on the CI machines (no Docker): written to the same testbed contract as the
 * process harness, proven only where Docker exists.
 */
@Tag("docker")
class MeshScenariosK3sIT extends MeshScenarios {
  private static final String RUN = UUID.randomUUID().toString().substring(0, 6);
  private static K3sContainer k3s;
  private static KubernetesClient client;
  private static K3sTestbed testbed;

  @BeforeAll
  @Timeout(value = 15, unit = TimeUnit.MINUTES) // pulls k3s and the JRE base, builds two images
  static void start() throws Exception {
    K3s.requireDocker("MeshScenariosK3sIT");
    k3s = new K3sContainer(K3s.IMAGE);
    k3s.start();
    client = K3s.client(k3s);
    List<String> images = new ArrayList<>();
    images.add(controlPlaneImage());
    images.add(InjectorConfig.bundledSidecarImage());
    images.add(appImage(MeshWorkloads.GREETER_IMAGE, MeshWorkloads.GREETER_MAIN));
    images.add(appImage(MeshWorkloads.CALLER_IMAGE, MeshWorkloads.CALLER_MAIN));
    K3s.loadImages(k3s, images);
    for (String dir : List.of("gateway-api", "crds", "install", "webhook")) {
      K3s.applyManifests(client, dir);
    }
    client
        .apps()
        .deployments()
        .inNamespace(MeshConstants.SYSTEM_NAMESPACE)
        .withName(MeshControlPlane.NAME)
        .waitUntilCondition(MeshScenariosK3sIT::available, 5, TimeUnit.MINUTES);
    testbed = new K3sTestbed(client, RUN);
    testbed.deploy();
  }

  @AfterAll
  static void stop() {
    if (testbed != null) {
      testbed.close();
    }
    if (client != null) {
      client.close();
    }
    if (k3s != null) {
      k3s.stop();
    }
  }

  @Override
  protected Testbed testbed() {
    return testbed;
  }

  private static boolean available(Deployment d) {
    return d != null
        && d.getStatus() != null
        && d.getStatus().getAvailableReplicas() != null
        && d.getStatus().getAvailableReplicas() > 0;
  }

  /** The control plane image the install's Deployment names. */
  private static String controlPlaneImage() throws IOException {
    Path deployment = KubeBinaries.repoRoot().resolve("manifests/install/30-deployment.yaml");
    try (InputStream in = Files.newInputStream(deployment)) {
      Deployment d = client.apps().deployments().load(in).item();
      return d.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage();
    }
  }

  /**
   * A test app image: the test classpath on the JRE base, running {@code mainClass} with the pod's
   * args (as the process harness runs it).
   */
  private static String appImage(String name, String mainClass) {
    ImageFromDockerfile image = new ImageFromDockerfile(name, false);
    List<String> cp = new ArrayList<>();
    int i = 0;
    for (Path entry : JavaImage.classpath()) {
      if (!Files.exists(entry)) {
        continue;
      }
      String target = "cp/" + i++ + "-" + entry.getFileName();
      image.withFileFromPath(target, entry);
      cp.add("/app/" + target);
    }
    image.withDockerfileFromBuilder(
        b ->
            b.from("eclipse-temurin:25-jre")
                .copy("cp", "/app/cp")
                .entryPoint(
                    "java", "-Xmx128m", "-XX:+UseSerialGC", "-cp", String.join(":", cp), mainClass)
                .build());
    return image.get();
  }

  /** Pods placed by k3s's scheduler; the caller's control port reached by port-forward. */
  static final class K3sTestbed extends MeshWorkloads implements AutoCloseable {
    private final Map<String, LocalPortForward> forwards = new ConcurrentHashMap<>();

    K3sTestbed(KubernetesClient client, String run) {
      super(client, run, null);
    }

    @Override
    protected String callerBaseUrl(Pod caller) {
      String key = caller.getMetadata().getNamespace() + "/" + caller.getMetadata().getName();
      LocalPortForward f =
          forwards.computeIfAbsent(
              key,
              k ->
                  client()
                      .pods()
                      .inNamespace(caller.getMetadata().getNamespace())
                      .withName(caller.getMetadata().getName())
                      .portForward(CALLER_PORT));
      return "http://127.0.0.1:" + f.getLocalPort();
    }

    @Override
    protected void awaitMeshReady(String namespace) {
      client()
          .configMaps()
          .inNamespace(namespace)
          .withName(MeshConstants.TRUST_BUNDLE_CONFIG_MAP)
          .waitUntilCondition(c -> c != null, 60, TimeUnit.SECONDS);
    }

    @Override
    protected String diagnostics(String namespace, String pod) {
      StringBuilder sb = new StringBuilder();
      for (String c : List.of(MeshConstants.SIDECAR_CONTAINER_NAME, "app")) {
        try {
          sb.append("\n--- ").append(pod).append('/').append(c).append('\n');
          sb.append(
              client()
                  .pods()
                  .inNamespace(namespace)
                  .withName(pod)
                  .inContainer(c)
                  .tailingLines(25)
                  .getLog());
        } catch (RuntimeException e) {
          sb.append("(no log: ").append(e.getMessage()).append(")");
        }
      }
      return sb.toString();
    }

    @Override
    public void close() {
      forwards
          .values()
          .forEach(
              f -> {
                try {
                  f.close();
                } catch (IOException e) {
                  // the cluster goes away next
                }
              });
    }
  }
}
