package dev.meshwork.controlplane.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.ca.issue.CaConfig;
import dev.meshwork.ca.pki.Pem;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The control plane's CA in cluster mode against fabric8's mock API server (CRUD mode): the trust
 * bundle ConfigMap in every namespace but kube-* (also ones created later) through a whole root
 * rotation, the webhook caBundle kept current (also after the manifests blank it), leader-only
 * writes with followers adopting the leader's state, and the 15012/15017 serving certificate
 * following the signing intermediate.
 */
@EnableKubernetesMockClient(crud = true)
class TrustBundleDistributionTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  static KubernetesClient client;

  private final MutableClock clock = new MutableClock(Instant.now());
  private final List<EmbeddedCa> started = new ArrayList<>();

  /** A clock the test moves forward (rotation phases are days apart). */
  static final class MutableClock extends Clock {
    private final AtomicReference<Instant> now;

    MutableClock(Instant start) {
      now = new AtomicReference<>(start);
    }

    void advance(Duration d) {
      now.updateAndGet(i -> i.plus(d));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  @AfterEach
  void stop() {
    started.forEach(EmbeddedCa::close);
    // The mock server lives as long as the class: each test starts from an empty cluster.
    client.secrets().inAnyNamespace().delete();
    client.configMaps().inAnyNamespace().delete();
    client.namespaces().delete();
    client.admissionRegistration().v1().mutatingWebhookConfigurations().delete();
  }

  private EmbeddedCa ca(AtomicBoolean leader) {
    EmbeddedCa ca = EmbeddedCa.inCluster(client, CaConfig.defaults(), clock, CaMetrics.NOOP);
    started.add(ca);
    ca.start(leader::get);
    return ca;
  }

  private void namespace(String name, boolean meshed) {
    var ns = new NamespaceBuilder().withNewMetadata().withName(name).endMetadata();
    if (meshed) {
      ns.editMetadata().addToLabels("meshwork.dev/inject", "enabled").endMetadata();
    }
    client.namespaces().resource(ns.build()).create();
  }

  private List<X509Certificate> bundleIn(String namespace) {
    var cm = client.configMaps().inNamespace(namespace).withName("meshwork-trust-bundle").get();
    return cm == null ? List.of() : Pem.certificates(cm.getData().get("root-cert.pem"), "bundle");
  }

  private List<X509Certificate> webhookCaBundle() {
    var config =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName("meshwork-sidecar-injector")
            .get();
    String b64 = config.getWebhooks().getFirst().getClientConfig().getCaBundle();
    return b64 == null || b64.isEmpty()
        ? List.of()
        : Pem.certificates(
            new String(Base64.getDecoder().decode(b64), StandardCharsets.US_ASCII), "caBundle");
  }

  private static MutatingWebhookConfiguration webhookConfiguration() {
    return new MutatingWebhookConfigurationBuilder()
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
  }

  @Test
  void bundleReachesEveryNamespaceButKubernetesOwnAndTheWebhookThroughARootRotation() {
    namespace("shop", true);
    namespace("plain", false);
    namespace("kube-system", false);
    AtomicBoolean leading = new AtomicBoolean(true);
    EmbeddedCa leader = ca(leading);
    List<X509Certificate> first = leader.authority().trustBundle();
    assertThat(first).hasSize(1);

    await().atMost(WAIT).until(() -> bundleIn("shop").equals(first));
    assertThat(bundleIn("meshwork-system")).isEqualTo(first);
    // A pod may opt in with meshwork.dev/inject: "true" in a namespace that is not labelled, and
    // its sidecar mounts the bundle: so unlabelled namespaces get it too, Kubernetes' own do not.
    await().atMost(WAIT).until(() -> bundleIn("plain").equals(first));
    assertThat(bundleIn("kube-system")).as("Kubernetes' own namespace").isEmpty();

    // A namespace created after start gets the bundle at once (informer), not after an upkeep.
    namespace("late", false);
    await().atMost(WAIT).until(() -> bundleIn("late").equals(first));

    // The webhook configuration installed after the control plane, then re-applied blank.
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(webhookConfiguration())
        .create();
    await().atMost(WAIT).until(() -> webhookCaBundle().equals(first));
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .resource(webhookConfiguration())
        .update();
    await().atMost(WAIT).until(() -> webhookCaBundle().equals(first));

    // Phase 1: the new root is trusted everywhere before it signs anything.
    leader.authority().rotateRoot();
    List<X509Certificate> both = leader.authority().trustBundle();
    assertThat(both).hasSize(2).contains(first.getFirst());
    assertThat(bundleIn("shop")).isEqualTo(both);
    assertThat(bundleIn("late")).isEqualTo(both);
    assertThat(webhookCaBundle()).isEqualTo(both);
    X509Certificate newRoot =
        both.stream().filter(r -> !r.equals(first.getFirst())).findFirst().orElseThrow();

    // Phase 2: after the propagation time the new root signs, both stay trusted.
    clock.advance(CaConfig.defaults().rootPropagation().plusMinutes(1));
    leader.upkeep();
    assertThat(leader.authority().activeGeneration().root()).isEqualTo(newRoot);
    assertThat(bundleIn("shop")).containsExactlyInAnyOrderElementsOf(both);

    // Phase 3: after the overlap the old root is dropped from every copy.
    clock.advance(CaConfig.defaults().rootOverlap().plusMinutes(1));
    leader.upkeep();
    assertThat(bundleIn("shop")).containsExactly(newRoot);
    assertThat(bundleIn("late")).containsExactly(newRoot);
    assertThat(bundleIn("meshwork-system")).containsExactly(newRoot);
    assertThat(webhookCaBundle()).containsExactly(newRoot);
  }

  @Test
  void onlyTheLeaderWritesAndFollowersAdoptItsRotation() {
    namespace("shop", true);
    AtomicBoolean leaderFlag = new AtomicBoolean(true);
    AtomicBoolean followerFlag = new AtomicBoolean(false);
    EmbeddedCa leader = ca(leaderFlag);
    EmbeddedCa follower = ca(followerFlag);
    assertThat(follower.authority().trustBundle()).isEqualTo(leader.authority().trustBundle());
    await().atMost(WAIT).until(() -> bundleIn("shop").size() == 1);

    leader.authority().rotateRoot();
    follower.upkeep();
    assertThat(follower.authority().trustBundle())
        .as("the follower reloads the leader's rotation from the Secret")
        .isEqualTo(leader.authority().trustBundle())
        .hasSize(2);

    client.configMaps().inNamespace("shop").withName("meshwork-trust-bundle").delete();
    await().atMost(WAIT).until(() -> bundleIn("shop").isEmpty());
    follower.upkeep();
    assertThat(bundleIn("shop")).as("followers never write").isEmpty();
    leader.upkeep();
    assertThat(bundleIn("shop")).as("the leader's upkeep repairs").hasSize(2);

    // Leadership moves: the new leader's first upkeep takes over the writing.
    leaderFlag.set(false);
    followerFlag.set(true);
    client.configMaps().inNamespace("shop").withName("meshwork-trust-bundle").delete();
    await().atMost(WAIT).until(() -> bundleIn("shop").isEmpty());
    follower.upkeep();
    assertThat(bundleIn("shop")).isEqualTo(leader.authority().trustBundle());
  }

  @Test
  void servingCertificateFor15012And15017FollowsTheSigningIntermediate() throws Exception {
    AtomicBoolean leading = new AtomicBoolean(true);
    EmbeddedCa ca = ca(leading);
    X509Certificate[] first =
        ca.webhookKeyManager()
            .getCertificateChain(ca.webhookKeyManager().chooseEngineServerAlias("EC", null, null));
    assertThat(first[0].getSubjectAlternativeNames())
        .extracting(san -> (Object) san.get(1))
        .contains((Object) "meshwork-control-plane.meshwork-system.svc", "localhost");
    first[0].verify(first[1].getPublicKey());
    first[1].verify(ca.authority().trustBundle().getFirst().getPublicKey());

    ca.authority().rotateRoot();
    clock.advance(CaConfig.defaults().rootPropagation().plusMinutes(1));
    ca.upkeep(); // the new generation signs; the serving certificate must follow at once
    X509Certificate[] renewed =
        ca.webhookKeyManager()
            .getCertificateChain(ca.webhookKeyManager().chooseEngineServerAlias("EC", null, null));
    assertThat(renewed[0].getSerialNumber()).isNotEqualTo(first[0].getSerialNumber());
    assertThat(renewed[1]).isEqualTo(ca.authority().activeGeneration().intermediate());
  }
}
