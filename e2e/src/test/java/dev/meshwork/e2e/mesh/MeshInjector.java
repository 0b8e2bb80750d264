package dev.meshwork.e2e.mesh;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.e2e.kube.ClusterPki;
import dev.meshwork.e2e.kube.KubeCluster;
import dev.meshwork.injector.admission.AdmissionService;
import dev.meshwork.injector.server.TlsCredentials;
import dev.meshwork.injector.server.WebhookServer;
import dev.meshwork.injector.server.WebhookServerConfig;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * The sidecar injector for the scenarios: our webhook (the injector library) in the test JVM on
 * 127.0.0.1 with a certificate from the cluster CA, registered by URL for pods of namespaces
 * labelled {@code meshwork.dev/inject=enabled} and {@code meshwork.dev/e2e-run=<run>} (so classes
 * sharing the cluster do not inject each other's pods).
 *
 * <p>The sidecars it injects speak TLS to the control plane (verified with the mesh trust bundle)
 * and get their workload certificate from its CA, i.e. mutual TLS on every hop.
 */
public final class MeshInjector implements AutoCloseable {
  /** Label that scopes this run's webhook to its own namespaces. */
  public static final String RUN_LABEL = "meshwork.dev/e2e-run";

  private final KubernetesClient client;
  private final String configName;
  private final WebhookServer server;

  private MeshInjector(KubernetesClient client, String configName, WebhookServer server) {
    this.client = client;
    this.configName = configName;
    this.server = server;
  }

  public static MeshInjector start(KubeCluster cluster, String run) throws Exception {
    ClusterPki.Issued cert =
        cluster.pki().issueServing("mesh-injector-" + run, List.of("127.0.0.1", "localhost"));
    WebhookServer server =
        WebhookServer.start(
            WebhookServerConfig.defaults().withPort(0).withBindHost("127.0.0.1"),
            TlsCredentials.fromPemFiles(cert.certFile(), cert.keyFile()),
            new AdmissionService(InjectorConfig.defaults()));
    String caBundle =
        Base64.getEncoder()
            .encodeToString(cluster.pki().ca().certPem().getBytes(StandardCharsets.UTF_8));
    String name = "meshwork-sidecar-injector-" + run;
    KubernetesClient client = cluster.client();
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(
            new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .addNewWebhook()
                .withName("sidecar-injector.meshwork.dev")
                .withAdmissionReviewVersions("v1")
                .withSideEffects("None")
                .withFailurePolicy("Fail")
                .withReinvocationPolicy("IfNeeded")
                .withTimeoutSeconds(10)
                .withNewClientConfig()
                .withUrl("https://127.0.0.1:" + server.localAddress().getPort() + "/inject")
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
                .addToMatchLabels(RUN_LABEL, run)
                .endNamespaceSelector()
                .endWebhook()
                .build())
        .create();
    return new MeshInjector(client, name, server);
  }

  @Override
  public void close() {
    // Configuration first: with failurePolicy Fail a registered but stopped webhook would refuse
    // every pod of a labelled namespace.
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(configName)
        .delete();
    server.close();
  }
}
