package dev.meshwork.controlplane.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.testing.Meshes;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An object of our CRDs this version cannot read, against fabric8's Kubernetes mock server in CRUD
 * mode. A class of its own, so a mock server of its own: with one server for both informer tests,
 * the first test's closed informers left watches the server blocked on for 30 s when the next test
 * created objects (the client's retry then got 409).
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(60)
class KubernetesConfigSourceUnreadableTest {
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

  @Test
  void anObjectThatCannotBeReadNeitherStopsTheInformerNorHidesTheOthers() {
    client
        .resource(
            Meshes.objects(
                    """
                    apiVersion: security.meshwork.dev/v1alpha1
                    kind: PeerAuthentication
                    metadata: {name: good, namespace: unreadable}
                    spec: {mtls: {mode: STRICT}}
                    """)
                .getFirst())
        .create();
    client
        .genericKubernetesResources(PEER_AUTHENTICATIONS)
        .resource(Meshes.unreadablePeerAuthentication("unreadable", "future"))
        .create();
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
                assertThat(raw.peerAuthentications())
                    .filteredOn(p -> p.getMetadata().getNamespace().equals("unreadable"))
                    .extracting(p -> p.getMetadata().getName())
                    .containsExactly("good");
                assertThat(raw.unreadable())
                    .singleElement()
                    .satisfies(
                        u -> {
                          assertThat(u.kind()).isEqualTo("PeerAuthentication");
                          assertThat(u.name()).isEqualTo("future");
                          assertThat(u.error()).contains("SOMETIMES");
                        });
              });

      // The informer still follows changes: the good one edited, the bad one fixed.
      PeerAuthentication good =
          client
              .resources(PeerAuthentication.class)
              .inNamespace("unreadable")
              .withName("good")
              .get();
      good.getMetadata().setLabels(Map.of("edited", "yes"));
      client.resource(good).update();
      GenericKubernetesResource future =
          client
              .genericKubernetesResources(PEER_AUTHENTICATIONS)
              .inNamespace("unreadable")
              .withName("future")
              .get();
      future.setAdditionalProperty("spec", Map.of("mtls", Map.of("mode", "DISABLE")));
      client.genericKubernetesResources(PEER_AUTHENTICATIONS).resource(future).update();
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                RawConfig raw = seen.get();
                assertThat(raw.unreadable()).isEmpty();
                assertThat(raw.peerAuthentications())
                    .filteredOn(p -> p.getMetadata().getNamespace().equals("unreadable"))
                    .extracting(p -> p.getMetadata().getName())
                    .containsExactlyInAnyOrder("good", "future");
              });
    } finally {
      // The mock server is shared by the class: leave only what the other test expects.
      client.genericKubernetesResources(PEER_AUTHENTICATIONS).inNamespace("unreadable").delete();
    }
  }
}
