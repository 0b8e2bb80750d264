package dev.meshwork.controlplane.translate;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who is asking for config, read from {@code DiscoveryRequest.node} as {@code docs/xds-contract.md}
 * defines it.
 *
 * @param id {@code node.id}, {@code <namespace>/<pod>}; also the snapshot cache's group key
 * @param namespace {@code NAMESPACE} metadata ({@code default} when absent)
 * @param podName {@code POD_NAME} metadata, else the part of the id after the slash
 * @param workload {@code node.cluster}
 * @param serviceAccount {@code SERVICE_ACCOUNT} metadata, or empty
 * @param labels {@code LABELS} metadata
 * @param ips {@code INSTANCE_IPS} metadata
 * @param sidecar true for {@code PROXY_TYPE=sidecar}; false for proxyless gRPC clients
 */
public record ProxyKey(
    String id,
    String namespace,
    String podName,
    String workload,
    String serviceAccount,
    Map<String, String> labels,
    List<String> ips,
    boolean sidecar) {

  public static final String NAMESPACE = "NAMESPACE";
  public static final String POD_NAME = "POD_NAME";
  public static final String SERVICE_ACCOUNT = "SERVICE_ACCOUNT";
  public static final String LABELS = "LABELS";
  public static final String INSTANCE_IPS = "INSTANCE_IPS";
  public static final String PROXY_TYPE = "PROXY_TYPE";

  public ProxyKey {
    labels = Map.copyOf(labels);
    ips = List.copyOf(ips);
  }

  /** Reads a node; a node without {@code NAMESPACE} is a proxyless client in {@code default}. */
  public static ProxyKey fromNode(Node node) {
    Map<String, Value> md = node.getMetadata().getFieldsMap();
    String id = node.getId();
    boolean hasNamespace = md.containsKey(NAMESPACE);
    String ns = hasNamespace ? md.get(NAMESPACE).getStringValue() : "default";
    String pod = str(md, POD_NAME);
    if (pod.isEmpty()) {
      int slash = id.indexOf('/');
      pod = slash >= 0 ? id.substring(slash + 1) : id;
    }
    Map<String, String> labels = new LinkedHashMap<>();
    if (md.containsKey(LABELS) && md.get(LABELS).hasStructValue()) {
      Struct s = md.get(LABELS).getStructValue();
      s.getFieldsMap().forEach((k, v) -> labels.put(k, v.getStringValue()));
    }
    String ipList = str(md, INSTANCE_IPS);
    List<String> ips =
        ipList.isEmpty()
            ? List.of()
            : Arrays.stream(ipList.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    boolean sidecar = hasNamespace && !"proxyless".equals(str(md, PROXY_TYPE));
    return new ProxyKey(
        id, ns, pod, node.getCluster(), str(md, SERVICE_ACCOUNT), labels, ips, sidecar);
  }

  /** A proxy for tests and benchmarks. */
  public static ProxyKey of(String namespace, String pod, boolean sidecar) {
    return new ProxyKey(
        namespace + "/" + pod, namespace, pod, pod, "", Map.of(), List.of(), sidecar);
  }

  private static String str(Map<String, Value> md, String key) {
    Value v = md.get(key);
    return v == null ? "" : v.getStringValue();
  }
}
