package dev.meshwork.sidecar.cluster;

import java.util.Map;
import java.util.Objects;

/**
 * One upstream address of a cluster.
 *
 * @param healthy false when EDS said the endpoint is not ready (it is then not picked)
 * @param metadata {@code filter_metadata["meshwork"]} string fields (pod, workload, version)
 */
public record Endpoint(
    String host, int port, int weight, boolean healthy, Map<String, String> metadata) {
  public Endpoint {
    Objects.requireNonNull(host, "host");
    metadata = Map.copyOf(metadata);
  }

  /** {@code host:port}, the key of per-endpoint load statistics and connection pools. */
  public String address() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
