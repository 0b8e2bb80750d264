package dev.meshwork.e2e.mesh;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.e2e.kube.ClusterPki;
import dev.meshwork.e2e.kube.KubeBinaries;
import dev.meshwork.e2e.kube.KubeCluster;
import dev.meshwork.injector.admission.AdmissionService;
import dev.meshwork.injector.server.TlsCredentials;
import dev.meshwork.injector.server.WebhookServer;
import dev.meshwork.injector.server.WebhookServerConfig;
import dev.meshwork.injector.template.InjectorConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The sidecar injector for the scenarios, as installed: the MutatingWebhookConfiguration of {@code
 * manifests/webhook}, which sends pods of labelled namespaces to the control plane's injector
 * (15017, reached through the control plane Service's endpoint). Until that file exists, our
 * webhook (the injector library) in the test JVM on 127.0.0.1, registered by URL for namespaces
 * labelled {@code meshwork.dev/inject=enabled} and {@code meshwork.dev/e2e-run=<run>}.
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

  /**
   * Registers the injector: the install's MutatingWebhookConfiguration from {@code
   * manifests/webhook} (served by the control plane on 15017 through its Service), waiting until
   * the control plane has written its CA into it; without that file, our webhook in this JVM.
   */
  public static MeshInjector start(KubeCluster cluster, String run) throws Exception {
    Path manifest = KubeBinaries.repoRoot().resolve("manifests/webhook/mutating-webhook.yaml");
    if (Files.isRegularFile(manifest)) {
      return fromManifest(cluster, manifest);
    }
    return inThisJvm(cluster, run);
  }

  private static MeshInjector fromManifest(KubeCluster cluster, Path manifest) throws Exception {
    List<String> names = new ArrayList<>();
    try (InputStream in = Files.newInputStream(manifest)) {
      for (HasMetadata item : cluster.client().load(in).items()) {
        names.add(item.getMetadata().getName());
      }
    }
    cluster.apply(manifest);
    KubernetesClient client = cluster.client();
    String name = names.getFirst();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!caBundleSet(client, name)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "the control plane did not write its CA into MutatingWebhookConfiguration "
                + name
                + " within 30 s");
      }
      Thread.sleep(200);
    }
    return new MeshInjector(client, name, null);
  }

  private static boolean caBundleSet(KubernetesClient client, String name) {
    MutatingWebhookConfiguration c =
        client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(name).get();
    return c != null
        && c.getWebhooks().stream()
            .allMatch(
                w ->
                    w.getClientConfig().getCaBundle() != null
                        && !w.getClientConfig().getCaBundle().isEmpty());
  }

  private static MeshInjector inThisJvm(KubeCluster cluster, String run) throws Exception {
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
    if (server != null) {
      server.close();
    }
  }
}
