package dev.meshwork.e2e.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.controlplane.ControlPlane;
import dev.meshwork.controlplane.status.StatusWriter;
import dev.meshwork.e2e.kube.KubeApiServerTest;
import dev.meshwork.e2e.kube.KubeCluster;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The control plane watches the real API server and writes GRPCRoute status back: a route whose
 * backends exist is Accepted with ResolvedRefs True within seconds; one naming a missing Service
 * gets ResolvedRefs False / BackendNotFound, and turns True once that Service is created.
 */
@KubeApiServerTest
class RouteStatusIT {
  private static final String NS = "routes-" + UUID.randomUUID().toString().substring(0, 6);
  private static InJvmControlPlane cp;
  private static ControlPlane controlPlane;

  @BeforeAll
  static void start(KubeCluster cluster, KubernetesClient client) throws Exception {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    for (String svc : List.of("greeter", "greeter-v1")) {
      client.services().inNamespace(NS).resource(service(svc)).create();
    }
    cp = InJvmControlPlane.start(cluster);
    controlPlane = cp.controlPlane();
  }

  @AfterAll
  static void stop(KubernetesClient client) {
    if (cp != null) {
      cp.close();
    }
    client.namespaces().withName(NS).delete();
  }

  @Test
  void routeWithExistingBackendsIsAcceptedWithResolvedRefs(KubernetesClient client) {
    client.resource(route("to-v1", "greeter-v1")).create();

    await("status of GRPCRoute to-v1")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> condition(client, "to-v1", "ResolvedRefs").isPresent());
    assertThat(condition(client, "to-v1", "Accepted").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(condition(client, "to-v1", "ResolvedRefs").orElseThrow().getStatus())
        .isEqualTo("True");
    RouteParentStatus parent = ours(client, "to-v1").orElseThrow();
    assertThat(parent.getParentRef().getKind()).isEqualTo("Service");
    assertThat(parent.getParentRef().getName()).isEqualTo("greeter");
  }

  @Test
  void missingBackendIsReportedAndClearedWhenItAppears(KubernetesClient client) {
    client.resource(route("to-v2", "greeter-v2")).create();

    await("BackendNotFound on to-v2")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                condition(client, "to-v2", "ResolvedRefs")
                    .filter(c -> c.getStatus().equals("False"))
                    .filter(c -> c.getReason().equals("BackendNotFound"))
                    .isPresent());

    client.services().inNamespace(NS).resource(service("greeter-v2")).create();

    await("ResolvedRefs True on to-v2 once greeter-v2 exists")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                condition(client, "to-v2", "ResolvedRefs")
                    .filter(c -> c.getStatus().equals("True"))
                    .isPresent());
  }

  private static Optional<RouteParentStatus> ours(KubernetesClient client, String name) {
    GRPCRoute r = client.resources(GRPCRoute.class).inNamespace(NS).withName(name).get();
    if (r == null || r.getStatus() == null || r.getStatus().getParents() == null) {
      return Optional.empty();
    }
    return r.getStatus().getParents().stream()
        .filter(p -> StatusWriter.CONTROLLER_NAME.equals(p.getControllerName()))
        .findFirst();
  }

  private static Optional<Condition> condition(KubernetesClient client, String route, String type) {
    return ours(client, route).stream()
        .flatMap(p -> p.getConditions().stream())
        .filter(c -> c.getType().equals(type))
        .findFirst();
  }

  private static GRPCRoute route(String name, String backend) {
    return new GRPCRouteBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .endMetadata()
        .withNewSpec()
        .addNewParentRef()
        .withGroup("")
        .withKind("Service")
        .withName("greeter")
        .withPort(50051)
        .endParentRef()
        .addNewRule()
        .addNewBackendRef()
        .withName(backend)
        .withPort(50051)
        .endBackendRef()
        .endRule()
        .endSpec()
        .build();
  }

  private static io.fabric8.kubernetes.api.model.Service service(String name) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .addToSelector("app", name)
        .addNewPort()
        .withName("grpc")
        .withAppProtocol("kubernetes.io/h2c")
        .withPort(50051)
        .endPort()
        .endSpec()
        .build();
  }
}
