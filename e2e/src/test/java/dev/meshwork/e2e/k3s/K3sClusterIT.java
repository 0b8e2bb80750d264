package dev.meshwork.e2e.k3s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.k3s.K3sContainer;

/**
 * The same manifests against a k3s cluster in Docker, for users who have a Docker engine. Where
 * there is none (as on the CI machines) it skips with one line: the process harness covers it.
 */
@Tag("docker")
class K3sClusterIT {
  @BeforeEach
  void docker() {
    K3s.requireDocker("K3sClusterIT");
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // the first run pulls the k3s image
  void k3sServesTheGatewayApiAndOurCrds() throws Exception {
    try (K3sContainer k3s = new K3sContainer(K3s.IMAGE)) {
      k3s.start();
      try (KubernetesClient client = K3s.client(k3s)) {
        K3s.applyManifests(client, "gateway-api");
        K3s.applyManifests(client, "crds");
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
