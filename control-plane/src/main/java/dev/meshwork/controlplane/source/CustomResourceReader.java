package dev.meshwork.controlplane.source;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.model.UnreadableObject;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;

/**
 * Turns objects of our CRDs, watched untyped, into their Java types one at a time.
 *
 * <p>Why untyped: a typed fabric8 informer deserializes a whole list or watch event at once, so a
 * single object it cannot read (a mode this control plane does not know, written under a newer CRD)
 * fails the list and the watch: every policy of that kind would stop updating, or vanish at start.
 * Read one by one, a bad object costs only itself, and it is handed on as an {@link
 * UnreadableObject} so the model keeps its last good version and reports it.
 */
final class CustomResourceReader {
  /** Our CRDs, watched through {@link #read}. */
  static final List<Class<? extends HasMetadata>> TYPES =
      List.of(PeerAuthentication.class, AuthorizationPolicy.class, TrafficPolicy.class);

  private final KubernetesSerialization serialization;

  CustomResourceReader(KubernetesSerialization serialization) {
    this.serialization = serialization;
  }

  /** The typed object, or an {@link UnreadableObject} saying why it cannot be read. */
  Object read(GenericKubernetesResource resource) {
    Class<? extends HasMetadata> type =
        TYPES.stream()
            .filter(t -> HasMetadata.getKind(t).equals(resource.getKind()))
            .findFirst()
            .orElse(null);
    ObjectMeta meta = resource.getMetadata();
    if (type == null) {
      return unreadable(resource, meta, "kind " + resource.getKind() + " is not a mesh CRD");
    }
    try {
      return serialization.convertValue(resource, type);
    } catch (RuntimeException e) {
      return unreadable(resource, meta, YamlResources.rootMessage(e));
    }
  }

  private static UnreadableObject unreadable(
      GenericKubernetesResource resource, ObjectMeta meta, String error) {
    return new UnreadableObject(
        resource.getKind(),
        meta.getNamespace(),
        meta.getName(),
        meta.getUid(),
        meta.getGeneration() == null ? 0 : meta.getGeneration(),
        error);
  }
}
