package dev.meshwork.e2e.k3s;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.meshwork.e2e.kube.KubeBinaries;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The k3s path's shared parts: the Docker check that skips with one line, the k3s image, applying
 * repo YAML, and loading images from the local Docker daemon into k3s's containerd (k3s does not
 * see the daemon's images). Stateless.
 */
public final class K3s {
  /** The k3s release the docker-tagged tests run. */
  public static final DockerImageName IMAGE = DockerImageName.parse("rancher/k3s:v1.33.4-k3s1");

  private K3s() {}

  /**
   * Skips the calling test with one line when no Docker engine answers. Never a failure, not even
   * with REQUIRE_E2E=1: CI machines have no Docker engine, the process harness covers them.
   */
  public static void requireDocker(String test) {
    boolean docker;
    try {
      docker = DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      docker = false;
    }
    if (!docker) {
      String why = test + " skipped: no Docker engine (the process harness covers CI)";
      LoggerFactory.getLogger(K3s.class).warn(why);
      Assumptions.abort(why);
    }
  }

  /** An admin client for a started k3s container. */
  public static KubernetesClient client(K3sContainer k3s) {
    return new KubernetesClientBuilder()
        .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml()))
        .build();
  }

  /** Server-side applies every YAML file of {@code manifests/<dir>}, in name order. */
  public static void applyManifests(KubernetesClient client, String dir) throws IOException {
    Path manifests = KubeBinaries.repoRoot().resolve("manifests").resolve(dir);
    try (Stream<Path> files = Files.list(manifests)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        try (InputStream in = Files.newInputStream(f)) {
          for (HasMetadata item : client.load(in).items()) {
            client.resource(item).fieldManager("meshwork-e2e").forceConflicts().serverSideApply();
          }
        }
      }
    }
  }

  /**
   * Copies images from the local Docker daemon into k3s's containerd.
   *
   * @throws IllegalStateException naming the image and how to build it, when the daemon lacks it
   */
  public static void loadImages(K3sContainer k3s, List<String> images) throws Exception {
    DockerClient docker = DockerClientFactory.instance().client();
    for (String image : images) {
      try {
        docker.inspectImageCmd(image).exec();
      } catch (NotFoundException e) {
        throw new IllegalStateException(
            "image "
                + image
                + " is not in the local Docker daemon; build it with"
                + " ./mvnw -pl control-plane,sidecar-proxy -am package jib:dockerBuild -DskipTests",
            e);
      }
      Path tar = Files.createTempFile("meshwork-image-", ".tar");
      try (InputStream in = docker.saveImageCmd(image).exec()) {
        Files.copy(in, tar, StandardCopyOption.REPLACE_EXISTING);
        k3s.copyFileToContainer(MountableFile.forHostPath(tar), "/tmp/image.tar");
        ExecResult r =
            k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", "/tmp/image.tar");
        if (r.getExitCode() != 0) {
          throw new IllegalStateException("ctr import of " + image + " failed: " + r.getStderr());
        }
      } finally {
        Files.deleteIfExists(tar);
      }
    }
  }
}
