package dev.meshwork.ca.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.ca.TestCa;
import dev.meshwork.ca.issue.CertificateAuthority;
import dev.meshwork.ca.pki.Pem;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** Trust bundle ConfigMaps and the webhook caBundle, against fabric8's mock server in CRUD mode. */
@EnableKubernetesMockClient(crud = true)
class PublishersTest {
  static KubernetesClient client;

  private void namespace(String name, boolean meshed) {
    var ns = new NamespaceBuilder().withNewMetadata().withName(name).endMetadata();
    if (meshed) {
      ns.editMetadata().addToLabels("meshwork.dev/inject", "enabled").endMetadata();
    }
    client.namespaces().resource(ns.build()).create();
  }

  private String bundleIn(String namespace) {
    var cm = client.configMaps().inNamespace(namespace).withName("meshwork-trust-bundle").get();
    return cm == null ? null : cm.getData().get("root-cert.pem");
  }

  @Test
  void trustBundleConfigMapFollowsRootRotationInEveryNamespaceButKubernetesOwn() {
    namespace("shop", true);
    namespace("billing", true);
    namespace("plain", false);
    namespace("kube-system", false);
    CertificateAuthority ca = TestCa.inMemory();
    TrustBundlePublisher publisher = new TrustBundlePublisher(client);
    ca.addTrustBundleListener(publisher);

    String single = Pem.encodeAll(ca.trustBundle());
    assertThat(bundleIn("shop")).isEqualTo(single);
    assertThat(bundleIn("billing")).isEqualTo(single);
    assertThat(bundleIn("meshwork-system")).isEqualTo(single);
    assertThat(bundleIn("plain")).as("a pod may opt in here").isEqualTo(single);
    assertThat(bundleIn("kube-system")).isNull();

    ca.rotateRoot();
    assertThat(Pem.certificates(bundleIn("shop"), "bundle")).hasSize(2).isEqualTo(ca.trustBundle());

    namespace("late", true);
    assertThat(publisher.publishTo("late")).isTrue();
    assertThat(Pem.certificates(bundleIn("late"), "bundle")).isEqualTo(ca.trustBundle());
  }

  @Test
  void webhookCaBundleIsKeptEqualToTheTrustBundle() {
    MutatingWebhookConfiguration config =
        new MutatingWebhookConfigurationBuilder()
            .withNewMetadata()
            .withName("meshwork-sidecar-injector")
            .endMetadata()
            .addNewWebhook()
            .withName("inject.meshwork.dev")
            .withNewClientConfig()
            .withNewService()
            .withName("meshwork-control-plane")
            .withNamespace("meshwork-system")
            .withPort(15017)
            .endService()
            .endClientConfig()
            .withAdmissionReviewVersions("v1")
            .withSideEffects("None")
            .endWebhook()
            .build();
    CertificateAuthority ca = TestCa.inMemory();
    WebhookCaBundlePatcher patcher = new WebhookCaBundlePatcher(client);
    assertThat(patcher.patch(ca.trustBundle())).as("absent configuration").isFalse();

    client.admissionRegistration().v1().mutatingWebhookConfigurations().resource(config).create();
    ca.addTrustBundleListener(patcher);
    assertThat(caBundle()).isEqualTo(Pem.encodeAll(ca.trustBundle()));

    ca.rotateRoot();
    assertThat(Pem.certificates(caBundle(), "caBundle")).hasSize(2).isEqualTo(ca.trustBundle());
    var stored =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName("meshwork-sidecar-injector")
            .get();
    assertThat(stored.getWebhooks().getFirst().getClientConfig().getService().getPort())
        .isEqualTo(15017);
  }

  private String caBundle() {
    var stored =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName("meshwork-sidecar-injector")
            .get();
    return new String(
        Base64.getDecoder().decode(stored.getWebhooks().getFirst().getClientConfig().getCaBundle()),
        StandardCharsets.US_ASCII);
  }
}
