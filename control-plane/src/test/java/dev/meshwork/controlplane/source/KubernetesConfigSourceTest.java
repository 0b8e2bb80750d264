package dev.meshwork.controlplane.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.testing.Meshes;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Against fabric8's Kubernetes mock server in CRUD mode (a real HTTP API with watches). */
@EnableKubernetesMockClient(crud = true)
@Timeout(60)
class KubernetesConfigSourceTest {
  static KubernetesClient client;

  /**
   * Closes the client's connections before the extension stops the mock server, which waits a
   * bounded time for open connections: on a loaded machine the informers' watch connections were
   * still closing and stopping the server failed the class (a clean-clone CI run).
   */
  @AfterAll
  static void closeClientFirst() {
    client.close();
  }

  /** The mock server has no discovery: untyped access names the resource. */
  static final ResourceDefinitionContext PEER_AUTHENTICATIONS =
      ResourceDefinitionContext.fromResourceType(PeerAuthentication.class);

  static final String MESH =
      Meshes.service("greeter", 8080)
          + Meshes.pod("greeter-1", "greeter", "v1", "10.0.0.1", 8080, true)
          + """
          apiVersion: gateway.networking.k8s.io/v1
          kind: GRPCRoute
          metadata: {name: r, namespace: default}
          spec:
            parentRefs: [{group: "", kind: Service, name: greeter}]
          ---
          apiVersion: security.meshwork.dev/v1alpha1
          kind: PeerAuthentication
          metadata: {name: strict, namespace: meshwork-system}
          spec: {mtls: {mode: STRICT}}
          """;

  @Test
  void informersDeliverEveryKindAndFollowChanges() {
    for (HasMetadata o : Meshes.objects(MESH)) {
      client.resource(o).create();
    }
    AtomicReference<RawConfig> seen = new AtomicReference<>();
    try (KubernetesConfigSource source =
        new KubernetesConfigSource(client, Duration.ofMillis(50), Duration.ofSeconds(30))) {
      source.start(seen::set);
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                RawConfig raw = seen.get();
                assertThat(raw).isNotNull();
                assertThat(raw.services())
                    .extracting(s -> s.getMetadata().getName())
                    .contains("greeter");
                assertThat(raw.pods())
                    .extracting(p -> p.getMetadata().getName())
                    .contains("greeter-1");
                assertThat(raw.grpcRoutes())
                    .extracting(r -> r.getMetadata().getName())
                    .contains("r");
                assertThat(raw.peerAuthentications()).hasSize(1);
              });

      // An added Service and a deleted route both arrive.
      client.resource(Meshes.objects(Meshes.service("extra", 9090)).getFirst()).create();
      client.resources(GRPCRoute.class).inNamespace("default").withName("r").delete();
      client
          .resources(PeerAuthentication.class)
          .inNamespace("meshwork-system")
          .withName("strict")
          .delete();
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                RawConfig raw = seen.get();
                assertThat(raw.services())
                    .extracting(Service::getMetadata)
                    .extracting(m -> m.getName())
                    .containsExactlyInAnyOrder("greeter", "extra");
                assertThat(raw.grpcRoutes()).isEmpty();
                assertThat(raw.peerAuthentications()).isEmpty();
              });

      // A pod update (new IP) is a change too.
      Pod pod = client.pods().inNamespace("default").withName("greeter-1").get();
      pod.getStatus().setPodIP("10.0.0.7");
      client.resource(pod).updateStatus();
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(seen.get().pods())
                      .singleElement()
                      .satisfies(p -> assertThat(p.getStatus().getPodIP()).isEqualTo("10.0.0.7")));
    }
  }
}
