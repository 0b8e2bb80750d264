package dev.meshwork.e2e.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.e2e.kube.ClusterPki;
import dev.meshwork.e2e.kube.KubeApiServerTest;
import dev.meshwork.e2e.kube.KubeCluster;
import dev.meshwork.injector.admission.AdmissionService;
import dev.meshwork.injector.server.TlsCredentials;
import dev.meshwork.injector.server.WebhookServer;
import dev.meshwork.injector.server.WebhookServerConfig;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pods created through the real API server are mutated by our webhook: in a namespace labelled
 * {@code meshwork.dev/inject=enabled} they come back with the capture init container and the native
 * sidecar; an opted-out pod and a pod of an unlabelled namespace come back untouched.
 *
 * <p>The webhook runs in the test JVM on 127.0.0.1 with a certificate from the cluster CA, and is
 * registered by URL: the install's Service-based configuration is not in manifests/ yet.
 */
@KubeApiServerTest
class WebhookInjectionIT {
  private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
  private static final String MESHED = "meshed-" + SUFFIX;
  private static final String PLAIN = "plain-" + SUFFIX;
  private static final String CONFIG = "meshwork-sidecar-injector-" + SUFFIX;
  private static WebhookServer webhook;

  @BeforeAll
  static void start(KubeCluster cluster, KubernetesClient client) throws Exception {
    ClusterPki.Issued cert =
        cluster.pki().issueServing("webhook-" + SUFFIX, List.of("127.0.0.1", "localhost"));
    webhook =
        WebhookServer.start(
            WebhookServerConfig.defaults().withPort(0).withBindHost("127.0.0.1"),
            TlsCredentials.fromPemFiles(cert.certFile(), cert.keyFile()),
            new AdmissionService(InjectorConfig.defaults()));
    String caBundle =
        Base64.getEncoder()
            .encodeToString(cluster.pki().ca().certPem().getBytes(StandardCharsets.UTF_8));
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(
            new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName(CONFIG)
                .endMetadata()
                .addNewWebhook()
                .withName("sidecar-injector.meshwork.dev")
                .withAdmissionReviewVersions("v1")
                .withSideEffects("None")
                .withFailurePolicy("Fail")
                .withTimeoutSeconds(10)
                .withNewClientConfig()
                .withUrl("https://127.0.0.1:" + webhook.localAddress().getPort() + "/inject")
                .withCaBundle(caBundle)
                .endClientConfig()
                .addNewRule()
                .withOperations("CREATE")
                .withApiGroups("")
                .withApiVersions("v1")
                .withResources("pods")
                .endRule()
                .withNewNamespaceSelector()
                .addToMatchLabels(MeshConstants.INJECT_LABEL, MeshConstants.INJECT_LABEL_ENABLED)
                .addToMatchLabels("meshwork.dev/e2e-run", SUFFIX)
                .endNamespaceSelector()
                .endWebhook()
                .build())
        .create();
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(MESHED)
                .withLabels(
                    Map.of(
                        MeshConstants.INJECT_LABEL,
                        MeshConstants.INJECT_LABEL_ENABLED,
                        "meshwork.dev/e2e-run",
                        SUFFIX))
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
  }

  @AfterAll
  static void stop(KubernetesClient client) {
    // Configuration first: with failurePolicy Fail, a registered but stopped webhook would
    // refuse every pod of a labelled namespace.
    client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(CONFIG).delete();
    if (webhook != null) {
      webhook.close();
    }
    client.namespaces().withName(MESHED).delete();
    client.namespaces().withName(PLAIN).delete();
  }

  @Test
  void podInALabelledNamespaceGetsTheInitContainerAndTheNativeSidecar(KubernetesClient client) {
    Pod stored = client.pods().inNamespace(MESHED).resource(app("greeter", Map.of())).create();

    assertThat(stored.getSpec().getInitContainers())
        .extracting(Container::getName)
        .containsExactly(MeshConstants.INIT_CONTAINER_NAME, MeshConstants.SIDECAR_CONTAINER_NAME);
    Container sidecar = stored.getSpec().getInitContainers().get(1);
    assertThat(sidecar.getRestartPolicy()).isEqualTo("Always");
    assertThat(stored.getSpec().getContainers())
        .extracting(Container::getName)
        .containsExactly("app");
    assertThat(stored.getMetadata().getAnnotations())
        .containsEntry(MeshConstants.INJECTED_ANNOTATION, "true");
    // What the API server stored is what a later reader sees.
    Pod read = client.pods().inNamespace(MESHED).withName("greeter").get();
    assertThat(read.getSpec().getInitContainers()).hasSize(2);
  }

  @Test
  void podOptedOutByAnnotationIsLeftAlone(KubernetesClient client) {
    Pod stored =
        client
            .pods()
            .inNamespace(MESHED)
            .resource(app("opted-out", Map.of(MeshConstants.INJECT_ANNOTATION, "false")))
            .create();

    assertThat(stored.getSpec().getInitContainers()).isEmpty();
    assertThat(stored.getMetadata().getAnnotations())
        .doesNotContainKey(MeshConstants.INJECTED_ANNOTATION);
  }

  @Test
  void podInAnUnlabelledNamespaceIsLeftAlone(KubernetesClient client) {
    Pod stored = client.pods().inNamespace(PLAIN).resource(app("plain", Map.of())).create();

    assertThat(stored.getSpec().getInitContainers()).isEmpty();
    assertThat(stored.getSpec().getContainers())
        .extracting(Container::getName)
        .containsExactly("app");
  }

  private static Pod app(String name, Map<String, String> annotations) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("app", name)
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
