package dev.meshwork.e2e.mesh;

import dev.meshwork.e2e.kube.KubeBinaries;
import dev.meshwork.e2e.kube.KubeCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The sidecar injector for the scenarios, as installed: the MutatingWebhookConfiguration of {@code
 * manifests/webhook}, which sends pods of labelled namespaces to the control plane's injector
 * (15017, reached through the control plane Service's endpoint, with the control plane's CA in
 * {@code caBundle}, written by the control plane itself).
 *
 * <p>The sidecars it injects speak TLS to the control plane (verified with the mesh trust bundle)
 * and get their workload certificate from its CA, i.e. mutual TLS on every hop.
 */
public final class MeshInjector implements AutoCloseable {
  private final KubernetesClient client;
  private final String configName;

  private MeshInjector(KubernetesClient client, String configName) {
    this.client = client;
    this.configName = configName;
  }

  /**
   * Applies {@code manifests/webhook/mutating-webhook.yaml} and waits until the control plane has
   * written its CA into every entry (until then the API server could not call it).
   */
  public static MeshInjector start(KubeCluster cluster) throws Exception {
    Path manifest = KubeBinaries.repoRoot().resolve("manifests/webhook/mutating-webhook.yaml");
    String name;
    try (InputStream in = Files.newInputStream(manifest)) {
      HasMetadata config = cluster.client().load(in).items().getFirst();
      name = config.getMetadata().getName();
    }
    cluster.apply(manifest);
    KubernetesClient client = cluster.client();
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
    return new MeshInjector(client, name);
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

  /**
   * Removes the configuration: with failurePolicy Fail, a registered webhook whose control plane is
   * gone would refuse every pod of a labelled namespace in later test classes.
   */
  @Override
  public void close() {
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(configName)
        .delete();
  }
}
