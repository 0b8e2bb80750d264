package dev.meshwork.controlplane.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.model.MeshModelBuilder;
import dev.meshwork.controlplane.model.PolicyReport;
import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.model.RouteReport;
import dev.meshwork.controlplane.testing.Meshes;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@EnableKubernetesMockClient(crud = true)
@Timeout(60)
class StatusWriterTest {
  static KubernetesClient client;

  /** The mock server has no discovery: untyped access names the resource. */
  static final ResourceDefinitionContext PEER_AUTHENTICATIONS =
      ResourceDefinitionContext.fromResourceType(PeerAuthentication.class);

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
    assertThat(p.getControllerName()).isEqualTo(StatusWriter.CONTROLLER_NAME);
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
    try (StatusWriter writer = new StatusWriter(client, leader::get, Clock.systemUTC())) {
      writer.onReports(reports, List.of());
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

  static final String GOOD_PA =
      """
      apiVersion: security.meshwork.dev/v1alpha1
      kind: PeerAuthentication
      metadata: {name: greeter-strict, namespace: default}
      spec:
        selector: {matchLabels: {app: greeter}}
        mtls: {mode: STRICT}
      """;

  static Condition accepted(String name) {
    GenericKubernetesResource pa =
        client
            .genericKubernetesResources(PEER_AUTHENTICATIONS)
            .inNamespace("default")
            .withName(name)
            .get();
    List<Map<String, Object>> conditions = pa.get("status", "conditions");
    if (conditions == null) {
      return null;
    }
    return conditions.stream()
        .map(c -> client.getKubernetesSerialization().convertValue(c, Condition.class))
        .filter(c -> c.getType().equals("Accepted"))
        .findFirst()
        .orElse(null);
  }

  @Test
  void theLeaderWritesAcceptedOnAPeerAuthenticationAndFlipsItWhenItTurnsBad() {
    client.resource(Meshes.objects(GOOD_PA).getFirst()).create();
    MeshModelBuilder builder = new MeshModelBuilder("cluster.local");
    AtomicBoolean leader = new AtomicBoolean(false);
    try (StatusWriter writer = new StatusWriter(client, leader::get, Clock.systemUTC())) {
      writer.onReports(List.of(), builder.build(fromApi()).policyReports());
      await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> true);
      assertThat(accepted("greeter-strict")).as("a follower writes nothing").isNull();

      leader.set(true);
      writer.rewriteAll();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                Condition c = accepted("greeter-strict");
                assertThat(c).isNotNull();
                assertThat(c.getStatus()).isEqualTo("True");
                assertThat(c.getReason()).isEqualTo("Accepted");
              });

      // An edit the schema lets through but Istio refuses: portLevelMtls on a selector-less policy.
      GenericKubernetesResource stored =
          client
              .genericKubernetesResources(PEER_AUTHENTICATIONS)
              .inNamespace("default")
              .withName("greeter-strict")
              .get();
      stored.setAdditionalProperty(
          "spec",
          Map.of(
              "mtls", Map.of("mode", "STRICT"),
              "portLevelMtls", Map.of("8080", Map.of("mode", "DISABLE"))));
      client.genericKubernetesResources(PEER_AUTHENTICATIONS).resource(stored).update();
      RawConfig bad = fromApi();
      long generation =
          bad.peerAuthentications().getFirst().getMetadata().getGeneration() == null
              ? 0
              : bad.peerAuthentications().getFirst().getMetadata().getGeneration();
      writer.onReports(List.of(), builder.build(bad).policyReports());
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                Condition c = accepted("greeter-strict");
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("Invalid");
                assertThat(c.getMessage())
                    .contains("spec.portLevelMtls needs a spec.selector")
                    .contains("the last good version stays in force");
                assertThat(c.getObservedGeneration()).isEqualTo(generation);
              });
    }
  }

  @Test
  void anUnreadablePeerAuthenticationGetsItsConditionToo() {
    GenericKubernetesResource future = Meshes.unreadablePeerAuthentication("default", "future");
    Long generation =
        client
            .genericKubernetesResources(PEER_AUTHENTICATIONS)
            .resource(future)
            .create()
            .getMetadata()
            .getGeneration();
    List<PolicyReport> reports =
        List.of(
            new PolicyReport(
                "PeerAuthentication",
                "default",
                "future",
                generation == null ? 0 : generation,
                false,
                PolicyReport.INVALID,
                "spec cannot be read: SOMETIMES",
                false));
    try (StatusWriter writer = new StatusWriter(client, () -> true, Clock.systemUTC())) {
      writer.onReports(List.of(), reports);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                Condition c = accepted("future");
                assertThat(c).isNotNull();
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getMessage()).isEqualTo("spec cannot be read: SOMETIMES");
              });
    }
  }

  private static RawConfig fromApi() {
    return new RawConfig(
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        client.resources(PeerAuthentication.class).inAnyNamespace().list().getItems(),
        List.of(),
        List.of());
  }
}
