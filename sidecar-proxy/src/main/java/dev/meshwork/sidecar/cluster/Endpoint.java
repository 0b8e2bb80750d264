package dev.meshwork.sidecar.cluster;

import java.util.Map;
import java.util.Objects;

/**
 * One upstream address of a cluster.
 *
 * @param healthy false when EDS said the endpoint is not ready (it is then not picked)
 * @param metadata {@code filter_metadata["meshwork"]} string fields (pod, workload, version)
 * @param address derived from host and port (whatever is passed is replaced); a component so it is
 *     built once, not on every call that reads it
 */
public record Endpoint(
    String host,
    int port,
    int weight,
    boolean healthy,
    Map<String, String> metadata,
    String address) {
  public Endpoint {
    Objects.requireNonNull(host, "host");
    metadata = Map.copyOf(metadata);
    address = host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }

  public Endpoint(
      String host, int port, int weight, boolean healthy, Map<String, String> metadata) {
    this(host, port, weight, healthy, metadata, null);
  }

  /** {@code host:port}, the key of per-endpoint load statistics and connection pools. */
  @Override
  public String address() {
    return address;
  }
}
