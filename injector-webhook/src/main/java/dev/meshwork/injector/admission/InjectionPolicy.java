package dev.meshwork.injector.admission;

import dev.meshwork.api.MeshConstants;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Decides whether a pod that reached the webhook gets the sidecar. The namespace label is checked
 * by the API server (the webhook's namespaceSelector) before the pod is ever sent here; this class
 * applies the per-pod rules the selectors cannot express, and repeats the opt-out so a webhook
 * configured without objectSelector still honours it. Pure.
 */
public final class InjectionPolicy {
  private InjectionPolicy() {}

  /** Label prefix of the mesh's own workloads ({@code app=meshwork-control-plane}, ...). */
  public static final String MESH_APP_PREFIX = "meshwork-";

  /**
   * @param namespace the namespace of the admission request (a pod being created may not carry one
   *     in its metadata yet)
   * @param pod the submitted pod, with spec and metadata
   */
  public static Decision decide(String namespace, Pod pod) {
    Map<String, String> labels = orEmpty(pod.getMetadata().getLabels());
    Map<String, String> annotations = orEmpty(pod.getMetadata().getAnnotations());

    if (MeshConstants.SYSTEM_NAMESPACE.equals(namespace)) {
      return Decision.skip("pod in the mesh's own namespace " + MeshConstants.SYSTEM_NAMESPACE);
    }
    String app = labels.get("app");
    if (app != null && app.startsWith(MESH_APP_PREFIX)) {
      return Decision.skip("mesh component (app=" + app + ")");
    }
    if (Boolean.TRUE.equals(pod.getSpec().getHostNetwork())) {
      // Capture rules would rewrite the node's own network namespace.
      return Decision.skip("hostNetwork pod");
    }
    if ("false".equalsIgnoreCase(annotations.get(MeshConstants.INJECT_ANNOTATION))
        || "false".equalsIgnoreCase(labels.get(MeshConstants.INJECT_LABEL))) {
      return Decision.skip("opted out with " + MeshConstants.INJECT_ANNOTATION + "=false");
    }
    if (annotations.containsKey(MeshConstants.INJECTED_ANNOTATION) || hasSidecar(pod)) {
      return Decision.skip("already injected");
    }
    return Decision.inject("selected by the webhook");
  }

  private static boolean hasSidecar(Pod pod) {
    return Stream.of(pod.getSpec().getContainers(), pod.getSpec().getInitContainers())
        .flatMap(l -> l == null ? Stream.<Container>empty() : l.stream())
        .anyMatch(c -> MeshConstants.SIDECAR_CONTAINER_NAME.equals(c.getName()));
  }

  private static Map<String, String> orEmpty(Map<String, String> m) {
    return m == null ? Map.of() : m;
  }
}
