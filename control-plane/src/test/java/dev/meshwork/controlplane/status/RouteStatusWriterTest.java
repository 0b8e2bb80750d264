package dev.meshwork.controlplane.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.controlplane.model.MeshModelBuilder;
import dev.meshwork.controlplane.model.RouteReport;
import dev.meshwork.controlplane.testing.Meshes;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@EnableKubernetesMockClient(crud = true)
@Timeout(60)
class RouteStatusWriterTest {
  static KubernetesClient client;

  static final String MESH =
      Meshes.service("greeter", 8080)
          + """
          apiVersion: gateway.networking.k8s.io/v1
          kind: GRPCRoute
          metadata: {name: bad, namespace: default}
          spec:
            parentRefs: [{group: "", kind: Service, name: greeter}]
            rules:
            - backendRefs: [{name: missing, port: 8080}]
          """;

  static Condition condition(GRPCRoute r, String type) {
    RouteParentStatus p = r.getStatus().getParents().getFirst();
    assertThat(p.getControllerName()).isEqualTo(RouteStatusWriter.CONTROLLER_NAME);
    return p.getConditions().stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void onlyTheLeaderWritesAcceptedAndResolvedRefsWithReasonAndGeneration() {
    for (HasMetadata o : Meshes.objects(MESH)) {
      client.resource(o).create();
    }
    GRPCRoute stored =
        client.resources(GRPCRoute.class).inNamespace("default").withName("bad").get();
    // Reports are made from what the API returns, as in the running control plane.
    List<RouteReport> reports =
        new MeshModelBuilder("cluster.local")
            .build(
                new dev.meshwork.controlplane.model.RawConfig(
                    client.services().inAnyNamespace().list().getItems(),
                    List.of(),
                    List.of(),
                    List.of(),
                    List.of(stored),
                    List.of(),
                    List.of(),
                    List.of()))
            .reports();
    AtomicBoolean leader = new AtomicBoolean(false);
    try (RouteStatusWriter writer = new RouteStatusWriter(client, leader::get, Clock.systemUTC())) {
      writer.onReports(reports);
      // A follower writes nothing.
      await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> true);
      assertThat(
              client
                  .resources(GRPCRoute.class)
                  .inNamespace("default")
                  .withName("bad")
                  .get()
                  .getStatus())
          .satisfiesAnyOf(
              s -> assertThat(s).isNull(), s -> assertThat(s.getParents()).isNullOrEmpty());

      leader.set(true);
      writer.rewriteAll();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                GRPCRoute r =
                    client.resources(GRPCRoute.class).inNamespace("default").withName("bad").get();
                assertThat(r.getStatus()).isNotNull();
                Condition accepted = condition(r, "Accepted");
                Condition resolved = condition(r, "ResolvedRefs");
                assertThat(accepted.getStatus()).isEqualTo("True");
                assertThat(resolved.getStatus()).isEqualTo("False");
                assertThat(resolved.getReason()).isEqualTo("BackendNotFound");
                assertThat(resolved.getMessage()).contains("default/missing");
                assertThat(resolved.getObservedGeneration())
                    .isEqualTo(
                        stored.getMetadata().getGeneration() == null
                            ? 0
                            : stored.getMetadata().getGeneration());
              });
    }
  }

  @Test
  void leaderElectionMakesThisReplicaLeaderOnItsLease() {
    client
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName("meshwork-system")
                .endMetadata()
                .build())
        .create();
    AtomicBoolean started = new AtomicBoolean();
    try (LeaderElection election = new LeaderElection(client, "replica-a", "meshwork-system")) {
      election.start(() -> started.set(true));
      await().atMost(Duration.ofSeconds(20)).until(election::isLeader);
      assertThat(started).isTrue();
      assertThat(
              client
                  .leases()
                  .inNamespace("meshwork-system")
                  .withName(LeaderElection.LEASE_NAME)
                  .get()
                  .getSpec()
                  .getHolderIdentity())
          .isEqualTo("replica-a");
    }
  }
}
