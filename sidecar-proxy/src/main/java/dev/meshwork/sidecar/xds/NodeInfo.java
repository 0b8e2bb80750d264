package dev.meshwork.sidecar.xds;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;
import java.util.Map;

/**
 * Who this sidecar is, sent as {@code DiscoveryRequest.node} (docs/xds-contract.md, "Node
 * identity").
 *
 * @param workload the {@code app} label, else the pod name: {@code node.cluster}
 */
public record NodeInfo(
    String namespace,
    String podName,
    String serviceAccount,
    String workload,
    Map<String, String> labels,
    List<String> instanceIps) {
  public NodeInfo {
    labels = Map.copyOf(labels);
    instanceIps = List.copyOf(instanceIps);
  }

  /** {@code <namespace>/<pod-name>}. */
  public String id() {
    return namespace + "/" + podName;
  }

  public Node toProto() {
    Struct.Builder lbls = Struct.newBuilder();
    labels.forEach((k, v) -> lbls.putFields(k, str(v)));
    Struct meta =
        Struct.newBuilder()
            .putFields("NAMESPACE", str(namespace))
            .putFields("POD_NAME", str(podName))
            .putFields("SERVICE_ACCOUNT", str(serviceAccount))
            .putFields("LABELS", Value.newBuilder().setStructValue(lbls).build())
            .putFields("INSTANCE_IPS", str(String.join(",", instanceIps)))
            .putFields("PROXY_TYPE", str("sidecar"))
            .build();
    return Node.newBuilder()
        .setId(id())
        .setCluster(workload)
        .setMetadata(meta)
        .setUserAgentName("meshwork-sidecar")
        .build();
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s == null ? "" : s).build();
  }
}
