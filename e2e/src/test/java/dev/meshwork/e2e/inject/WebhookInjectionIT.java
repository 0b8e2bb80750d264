package dev.meshwork.e2e.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.k8s.WebhookCaBundlePatcher;
import dev.meshwork.controlplane.ca.EmbeddedCa;
import dev.meshwork.controlplane.webhook.HostedWebhook;
import dev.meshwork.e2e.kube.KubeApiServerTest;
import dev.meshwork.e2e.kube.KubeCluster;
import dev.meshwork.e2e.kube.Prerequisites;
import dev.meshwork.e2e.node.PodNetwork;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The shipped webhook configuration ({@code manifests/webhook/mutating-webhook.yaml}, applied
 * server-side as is, caBundle written by the CA's patcher) against the real API server, calling the
 * control plane's injector ({@link HostedWebhook}, certificate from the mesh CA) through the {@code
 * meshwork-control-plane} Service: a pod of a labelled namespace comes back with the capture init
 * container and the native sidecar; opted-out pods come back untouched and, like pods of an
 * unlabelled namespace, are never sent (the webhook records every request it answers).
 *
 * <p>The webhook listens in the test JVM on the address of a bridge this test creates (the API
 * server refuses loopback endpoints); the Service has no selector and one Endpoints entry there.
 */
@KubeApiServerTest
@Tag("netns")
class WebhookInjectionIT {
  private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
  private static final String MESHED = "meshed-" + SUFFIX;
  private static final String PLAIN = "plain-" + SUFFIX;
  private static final String SERVICE = "meshwork-control-plane";
  private static final String CONFIG = WebhookCaBundlePatcher.DEFAULT_NAME;
  private static final Path REPO = Path.of("").toAbsolutePath().getParent();

  /** {@code namespace/name} of every pod the webhook was asked about. */
  private static final Set<String> sent = ConcurrentHashMap.newKeySet();

  private static PodNetwork network;
  private static HostedWebhook webhook;

  @BeforeAll
  static void start(KubeCluster cluster, KubernetesClient client) throws Exception {
    Prerequisites.require(Prerequisites.isRoot(), "a bridge for the webhook's address needs root");
    network = PodNetwork.create();
    Path dir = Files.createTempDirectory("meshwork-inject-it");
    Path tokens = dir.resolve("tokens.properties");
    Files.writeString(tokens, "unused=default/default\n");
    EmbeddedCa ca = EmbeddedCa.local(dir.resolve("ca"), tokens, "cluster.local", CaMetrics.NOOP);
    webhook =
        HostedWebhook.start(
            new HostedWebhook.Settings(
                new InetSocketAddress(network.gateway(), 0), InjectorConfig.defaults()),
            ca::servingCredentials,
            (request, response) -> sent.add(request.getNamespace() + "/" + request.getName()));

    cluster.apply(REPO.resolve("manifests/install/00-namespace.yaml"));
    // An endpoint another test class published for the same Service and left behind names an
    // address whose bridge is gone: the API server would pick it among ours now and then, and that
    // traffic leaves the machine by the default route (a CI run failed so, on a stranger's TLS
    // certificate). Only ours may serve this Service here.
    client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(MeshConstants.SYSTEM_NAMESPACE)
        .withLabel("kubernetes.io/service-name", SERVICE)
        .withLabel("endpointslice.kubernetes.io/managed-by", "meshwork-e2e")
        .delete();
    int port = webhook.address().getPort();
    client
        .services()
        .inNamespace(MeshConstants.SYSTEM_NAMESPACE)
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName(SERVICE)
                .endMetadata()
                .withNewSpec()
                .addNewPort()
                .withName("https-webhook")
                .withPort(MeshConstants.CONTROL_PLANE_WEBHOOK_PORT)
                .withTargetPort(new IntOrString(port))
                .endPort()
                .endSpec()
                .build())
        .createOr(r -> r.update());
    client
        .endpoints()
        .inNamespace(MeshConstants.SYSTEM_NAMESPACE)
        .resource(
            new EndpointsBuilder()
                .withNewMetadata()
                .withName(SERVICE)
                .endMetadata()
                .addNewSubset()
                .addNewAddress()
                .withIp(network.gateway())
                .endAddress()
                .addNewPort()
                .withName("https-webhook")
                .withPort(port)
                .endPort()
                .endSubset()
                .build())
        .createOr(r -> r.update());

    // The file as shipped, then the caBundle the way the control plane writes it.
    cluster.apply(REPO.resolve("manifests/webhook/mutating-webhook.yaml"));
    assertThat(new WebhookCaBundlePatcher(client, CONFIG).patch(ca.authority().trustBundle()))
        .isTrue();

    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(MESHED)
                .withLabels(Map.of(MeshConstants.INJECT_LABEL, MeshConstants.INJECT_LABEL_ENABLED))
                .endMetadata()
                .build())
        .create();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(PLAIN).endMetadata().build())
        .create();
    for (String ns : List.of(MESHED, PLAIN)) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> client.serviceAccounts().inNamespace(ns).withName("default").get() != null);
    }
    // The API server picks up the configuration and the endpoints asynchronously: wait until a
    // dry-run pod of the labelled namespace comes back injected.
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(
            () ->
                client
                        .pods()
                        .inNamespace(MESHED)
                        .resource(app("probe", Map.of(), Map.of()))
                        .dryRun()
                        .create()
                        .getSpec()
                        .getInitContainers()
                        .size()
                    == 2);
  }

  @AfterAll
  static void stop(KubernetesClient client) {
    // Configuration first: with failurePolicy Fail, a registered but stopped webhook would
    // refuse every pod of a labelled namespace.
    client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(CONFIG).delete();
    if (webhook != null) {
      webhook.close();
    }
    client.endpoints().inNamespace(MeshConstants.SYSTEM_NAMESPACE).withName(SERVICE).delete();
    client.services().inNamespace(MeshConstants.SYSTEM_NAMESPACE).withName(SERVICE).delete();
    client.namespaces().withName(MESHED).delete();
    client.namespaces().withName(PLAIN).delete();
    if (network != null) {
      network.close();
    }
  }

  @Test
  void podInALabelledNamespaceGetsTheInitContainerAndTheNativeSidecar(KubernetesClient client) {
    Pod stored =
        client.pods().inNamespace(MESHED).resource(app("greeter", Map.of(), Map.of())).create();

    assertThat(stored.getSpec().getInitContainers())
        .extracting(Container::getName)
        .containsExactly(MeshConstants.INIT_CONTAINER_NAME, MeshConstants.SIDECAR_CONTAINER_NAME);
    Container sidecar = stored.getSpec().getInitContainers().get(1);
    assertThat(sidecar.getRestartPolicy()).isEqualTo("Always");
    assertThat(sidecar.getStartupProbe().getHttpGet().getPort().getIntVal())
        .isEqualTo(MeshConstants.SIDECAR_METRICS_PORT);
    assertThat(stored.getSpec().getContainers())
        .extracting(Container::getName)
        .containsExactly("app");
    assertThat(stored.getMetadata().getAnnotations())
        .containsEntry(MeshConstants.INJECTED_ANNOTATION, "true");
    assertThat(sent).contains(MESHED + "/greeter");
    // What the API server stored is what a later reader sees.
    Pod read = client.pods().inNamespace(MESHED).withName("greeter").get();
    assertThat(read.getSpec().getInitContainers()).hasSize(2);
  }

  @Test
  void podsOptedOutByAnnotationOrLabelAreNeverSentAndComeBackUntouched(KubernetesClient client) {
    Pod byAnnotation =
        client
            .pods()
            .inNamespace(MESHED)
            .resource(
                app("out-annotated", Map.of(MeshConstants.INJECT_ANNOTATION, "false"), Map.of()))
            .create();
    Pod byLabel =
        client
            .pods()
            .inNamespace(MESHED)
            .resource(app("out-labelled", Map.of(), Map.of(MeshConstants.INJECT_LABEL, "false")))
            .create();

    for (Pod p : List.of(byAnnotation, byLabel)) {
      assertThat(p.getSpec().getInitContainers()).isEmpty();
      assertThat(p.getMetadata().getAnnotations())
          .doesNotContainKey(MeshConstants.INJECTED_ANNOTATION);
    }
    assertThat(sent).doesNotContain(MESHED + "/out-annotated", MESHED + "/out-labelled");
  }

  @Test
  void podInAnUnlabelledNamespaceIsNeverSent(KubernetesClient client) {
    Pod stored =
        client.pods().inNamespace(PLAIN).resource(app("plain", Map.of(), Map.of())).create();

    assertThat(stored.getSpec().getInitContainers()).isEmpty();
    assertThat(stored.getSpec().getContainers())
        .extracting(Container::getName)
        .containsExactly("app");
    assertThat(sent).noneMatch(key -> key.startsWith(PLAIN + "/"));
  }

  @Test
  void podOptedInByAnnotationInAnUnlabelledNamespaceIsInjected(KubernetesClient client) {
    Pod stored =
        client
            .pods()
            .inNamespace(PLAIN)
            .resource(app("opted-in", Map.of(MeshConstants.INJECT_ANNOTATION, "true"), Map.of()))
            .create();

    assertThat(stored.getSpec().getInitContainers())
        .extracting(Container::getName)
        .containsExactly(MeshConstants.INIT_CONTAINER_NAME, MeshConstants.SIDECAR_CONTAINER_NAME);
    assertThat(sent).contains(PLAIN + "/opted-in");
  }

  private static Pod app(String name, Map<String, String> annotations, Map<String, String> labels) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("app", name)
        .addToLabels(labels)
        .addToAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("app")
        .withImage("ghcr.io/meshwork/greeter:e2e")
        .addNewPort()
        .withContainerPort(50051)
        .endPort()
        .endContainer()
        .endSpec()
        .build();
  }
}
