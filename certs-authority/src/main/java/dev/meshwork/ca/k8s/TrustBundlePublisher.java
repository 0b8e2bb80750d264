package dev.meshwork.ca.k8s;

import dev.meshwork.api.MeshConstants;
import dev.meshwork.ca.issue.TrustBundleListener;
import dev.meshwork.ca.pki.Pem;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes ConfigMap {@value #CONFIG_MAP_NAME} (key {@value #KEY}: every trusted root, PEM) into
 * every namespace but Kubernetes' own ({@code kube-*}), as Istio does with its root certificate: a
 * pod may opt in with {@code meshwork.dev/inject: "true"} inside a namespace that is not labelled,
 * and its injected sidecar mounts this ConfigMap, so the bundle cannot wait for the label.
 * Applications and tools that want to verify mesh certificates read it; sidecars also get the same
 * roots in every CSR response. During a root rotation it holds both roots.
 *
 * <p>The control plane calls {@link #publishTo} when a namespace becomes meshed; a failure in one
 * namespace is logged and does not stop the others.
 */
@ThreadSafe
public final class TrustBundlePublisher implements TrustBundleListener {
  private static final Logger log = LoggerFactory.getLogger(TrustBundlePublisher.class);

  public static final String CONFIG_MAP_NAME = MeshConstants.TRUST_BUNDLE_CONFIG_MAP;
  public static final String KEY = MeshConstants.TRUST_BUNDLE_KEY;

  private final KubernetesClient client;
  private final AtomicReference<String> bundlePem = new AtomicReference<>();

  public TrustBundlePublisher(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public void onTrustBundle(List<X509Certificate> roots) {
    use(roots);
    resync();
  }

  /** Remembers {@code roots} as the bundle to publish from now on, without writing anything. */
  public void use(List<X509Certificate> roots) {
    bundlePem.set(Pem.encodeAll(roots));
  }

  /**
   * Brings the ConfigMap of every served namespace up to date with the last bundle given (repairs
   * ConfigMaps deleted or edited by hand); writes only where the content differs.
   *
   * @return the number of namespaces whose ConfigMap could not be written (each logged)
   */
  public int resync() {
    int failed = 0;
    for (String namespace : servedNamespaces()) {
      if (!publishTo(namespace)) {
        failed++;
      }
    }
    return failed;
  }

  /**
   * Creates or updates the ConfigMap in {@code namespace} with the current bundle; no write when it
   * already holds it.
   *
   * @return false if no bundle is known yet or the write failed (logged)
   */
  public boolean publishTo(String namespace) {
    String pem = bundlePem.get();
    if (pem == null) {
      return false;
    }
    try {
      ConfigMap existing =
          client.configMaps().inNamespace(namespace).withName(CONFIG_MAP_NAME).get();
      if (existing != null
          && existing.getData() != null
          && pem.equals(existing.getData().get(KEY))) {
        return true;
      }
    } catch (KubernetesClientException e) {
      log.warn("cannot read trust bundle {}/{}: {}", namespace, CONFIG_MAP_NAME, e.getMessage());
      return false;
    }
    ConfigMap configMap =
        new ConfigMapBuilder()
            .withNewMetadata()
            .withName(CONFIG_MAP_NAME)
            .withNamespace(namespace)
            .addToLabels("app.kubernetes.io/part-of", "meshwork")
            .endMetadata()
            .withData(Map.of(KEY, pem))
            .build();
    try {
      client
          .configMaps()
          .inNamespace(namespace)
          .resource(configMap)
          .createOr(NonDeletingOperation::update);
      log.info("trust bundle published to {}/{}", namespace, CONFIG_MAP_NAME);
      return true;
    } catch (KubernetesClientException e) {
      log.warn(
          "cannot publish trust bundle to {}/{}: {}", namespace, CONFIG_MAP_NAME, e.getMessage());
      return false;
    }
  }

  /** meshwork-system and every namespace that is not Kubernetes' own. */
  public List<String> servedNamespaces() {
    TreeSet<String> names = new TreeSet<>();
    names.add(MeshConstants.SYSTEM_NAMESPACE);
    try {
      for (Namespace ns : client.namespaces().list().getItems()) {
        if (serves(ns.getMetadata().getName())) {
          names.add(ns.getMetadata().getName());
        }
      }
    } catch (KubernetesClientException e) {
      log.warn("cannot list namespaces: {}", e.getMessage());
    }
    return List.copyOf(names);
  }

  /**
   * Whether {@code namespace} gets the bundle: all but {@code kube-system}, {@code kube-public} and
   * {@code kube-node-lease}, where the injector never injects.
   */
  public static boolean serves(String namespace) {
    return !namespace.startsWith("kube-");
  }
}
