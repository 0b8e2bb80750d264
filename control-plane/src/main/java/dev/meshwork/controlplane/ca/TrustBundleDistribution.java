package dev.meshwork.controlplane.ca;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.ca.issue.TrustBundleListener;
import dev.meshwork.ca.k8s.TrustBundlePublisher;
import dev.meshwork.ca.k8s.WebhookCaBundlePatcher;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the CA's public material current in the cluster: the ConfigMap {@value
 * MeshConstants#TRUST_BUNDLE_CONFIG_MAP} in every namespace but Kubernetes' own (see {@link
 * TrustBundlePublisher#serves}; new namespaces get it at once, through an informer), and the
 * caBundle of the injector's MutatingWebhookConfiguration (re-set at once when the install
 * manifests are re-applied and blank it).
 *
 * <p>Only the leader writes: followers may lag one upkeep period behind the Secret, and two
 * replicas writing different bundles would flap. {@link #resync()} repairs everything and is called
 * by the leader's upkeep, which also covers a change of leader.
 *
 * <p>Threading: thread-safe. Informer callbacks run on fabric8's informer thread; {@link
 * #onTrustBundle} on the CA's rotating thread; {@link #resync} on the upkeep thread. All of them
 * block on API calls.
 */
@ThreadSafe
final class TrustBundleDistribution implements TrustBundleListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TrustBundleDistribution.class);

  private final BooleanSupplier leader;
  private final TrustBundlePublisher publisher;
  private final WebhookCaBundlePatcher webhook;
  private final AtomicReference<List<X509Certificate>> roots = new AtomicReference<>();
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

  TrustBundleDistribution(KubernetesClient client, BooleanSupplier leader, String webhookName) {
    this.leader = leader;
    this.publisher = new TrustBundlePublisher(client);
    this.webhook = new WebhookCaBundlePatcher(client, webhookName);
    informers.add(
        client
            .namespaces()
            .inform(onChange((Namespace ns) -> publishTo(ns.getMetadata().getName())), 0));
    informers.add(
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(webhookName)
            .inform(onChange((MutatingWebhookConfiguration c) -> patchWebhook()), 0));
  }

  @Override
  public void onTrustBundle(List<X509Certificate> bundle) {
    roots.set(List.copyOf(bundle));
    publisher.use(bundle);
    if (leader.getAsBoolean()) {
      publisher.resync();
      webhook.patch(bundle);
    }
  }

  /**
   * Leader only: writes the bundle wherever it is missing or differs (all served namespaces, the
   * webhook). A no-op on followers.
   */
  void resync() {
    List<X509Certificate> bundle = roots.get();
    if (bundle == null || !leader.getAsBoolean()) {
      return;
    }
    publisher.resync();
    webhook.patch(bundle);
  }

  private void publishTo(String namespace) {
    if (roots.get() != null && leader.getAsBoolean() && TrustBundlePublisher.serves(namespace)) {
      log.debug("namespace {}: publishing the trust bundle", namespace);
      publisher.publishTo(namespace);
    }
  }

  private void patchWebhook() {
    List<X509Certificate> bundle = roots.get();
    if (bundle != null && leader.getAsBoolean()) {
      webhook.patch(bundle);
    }
  }

  private static <T extends HasMetadata> ResourceEventHandler<T> onChange(Consumer<T> action) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        action.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        // Our own write comes back as an update too; the action then finds nothing to change.
        action.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {}
    };
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
