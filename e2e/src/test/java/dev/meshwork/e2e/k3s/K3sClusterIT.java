package dev.meshwork.e2e.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.e2e.kube.KubeBinaries;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The same manifests against a k3s cluster in Docker, for users who have a Docker engine. Where
 * there is none (as on the CI machines) it skips with one line: the process harness covers it.
 */
@Tag("docker")
class K3sClusterIT {
  static final DockerImageName K3S = DockerImageName.parse("rancher/k3s:v1.33.4-k3s1");

  @BeforeEach
  void docker() {
    boolean docker;
    try {
      docker = DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      docker = false;
    }
    if (!docker) {
      // Never a failure, not even with REQUIRE_E2E=1: CI machines have no Docker engine.
      String why = "K3sClusterIT skipped: no Docker engine (the process harness covers CI)";
      LoggerFactory.getLogger(K3sClusterIT.class).warn(why);
      Assumptions.abort(why);
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // the first run pulls the k3s image
  void k3sServesTheGatewayApiAndOurCrds() throws Exception {
    try (K3sContainer k3s = new K3sContainer(K3S)) {
      k3s.start();
      try (KubernetesClient client =
          new KubernetesClientBuilder()
              .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml()))
              .build()) {
        Path manifests = KubeBinaries.repoRoot().resolve("manifests");
        for (String dir : List.of("gateway-api", "crds")) {
          try (Stream<Path> files = Files.list(manifests.resolve(dir))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
              try (InputStream in = Files.newInputStream(f)) {
                for (HasMetadata item : client.load(in).items()) {
                  client
                      .resource(item)
                      .fieldManager("meshwork-e2e")
                      .forceConflicts()
                      .serverSideApply();
                }
              }
            }
          }
        }
        CustomResourceDefinition grpcRoutes =
            client
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("grpcroutes.gateway.networking.k8s.io")
                .waitUntilCondition(
                    c ->
                        c != null
                            && c.getStatus() != null
                            && c.getStatus().getConditions().stream()
                                .anyMatch(x -> x.getType().equals("Established")),
                    60,
                    TimeUnit.SECONDS);
        assertThat(grpcRoutes.getSpec().getVersions()).anyMatch(v -> v.getName().equals("v1"));
      }
    }
  }
}
