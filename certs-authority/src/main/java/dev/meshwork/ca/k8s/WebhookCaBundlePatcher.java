package dev.meshwork.ca.k8s;

import dev.meshwork.ca.issue.TrustBundleListener;
import dev.meshwork.ca.pki.Pem;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import javax.annotation.concurrent.ThreadSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code clientConfig.caBundle} of every webhook in the MutatingWebhookConfiguration {@value
 * #DEFAULT_NAME} equal to the CA's trust bundle, so the API server trusts the webhook's serving
 * certificate (issued by this CA) through root rotations too. Only caBundle is touched; the rest of
 * the object belongs to the install manifests.
 */
@ThreadSafe
public final class WebhookCaBundlePatcher implements TrustBundleListener {
  private static final Logger log = LoggerFactory.getLogger(WebhookCaBundlePatcher.class);

  public static final String DEFAULT_NAME = "meshwork-sidecar-injector";

  private final KubernetesClient client;
  private final String name;

  public WebhookCaBundlePatcher(KubernetesClient client, String name) {
    this.client = client;
    this.name = name;
  }

  public WebhookCaBundlePatcher(KubernetesClient client) {
    this(client, DEFAULT_NAME);
  }

  @Override
  public void onTrustBundle(List<X509Certificate> roots) {
    patch(roots);
  }

  /**
   * Sets caBundle on each webhook where it differs.
   *
   * @return true if the configuration exists and now carries {@code roots}; false if it is absent
   *     (not installed yet) or the update failed (both logged)
   */
  public boolean patch(List<X509Certificate> roots) {
    String caBundle =
        Base64.getEncoder()
            .encodeToString(Pem.encodeAll(roots).getBytes(StandardCharsets.US_ASCII));
    try {
      var resource =
          client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(name);
      MutatingWebhookConfiguration current = resource.get();
      if (current == null) {
        log.warn("MutatingWebhookConfiguration {} not found; caBundle not set", name);
        return false;
      }
      boolean stale =
          current.getWebhooks().stream()
              .anyMatch(
                  w ->
                      w.getClientConfig() == null
                          || !Objects.equals(caBundle, w.getClientConfig().getCaBundle()));
      if (!stale) {
        return true;
      }
      resource.edit(
          config -> {
            for (MutatingWebhook webhook : config.getWebhooks()) {
              if (webhook.getClientConfig() != null) {
                webhook.getClientConfig().setCaBundle(caBundle);
              }
            }
            return config;
          });
      log.info("caBundle of MutatingWebhookConfiguration {} set to {} root(s)", name, roots.size());
      return true;
    } catch (KubernetesClientException e) {
      log.warn(
          "cannot patch caBundle of MutatingWebhookConfiguration {}: {}", name, e.getMessage());
      return false;
    }
  }
}
