package dev.meshwork.controlplane.model;

import dev.meshwork.api.SpiffeId;
import java.util.List;
import java.util.Map;

/**
 * A pod as the mesh sees it.
 *
 * @param namespace pod namespace
 * @param pod pod name
 * @param workloadName the {@code app} label, else the pod name
 * @param labels the pod's labels (policy selectors match these)
 * @param serviceAccount the pod's service account ({@code default} when unset)
 * @param ips the pod's IPs
 * @param containerPorts every declared container port, in declaration order
 * @param meshed true when a Meshwork sidecar runs in the pod
 */
public record Workload(
    String namespace,
    String pod,
    String workloadName,
    Map<String, String> labels,
    String serviceAccount,
    List<String> ips,
    List<Integer> containerPorts,
    boolean meshed) {
  public Workload {
    labels = Map.copyOf(labels);
    ips = List.copyOf(ips);
    containerPorts = List.copyOf(containerPorts);
  }

  /** {@code <namespace>/<pod>}, the same string a proxy sends as {@code node.id}. */
  public String key() {
    return namespace + "/" + pod;
  }

  public SpiffeId identity(String trustDomain) {
    return new SpiffeId(trustDomain, namespace, serviceAccount);
  }
}
