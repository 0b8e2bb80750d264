package dev.meshwork.sidecar.cluster;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every cluster of a snapshot with its endpoints (joined from CDS and EDS by {@code
 * eds_service_name}). A cluster whose EDS has not arrived has no endpoints.
 */
public record ClusterSet(
    Map<String, ClusterConfig> clusters, Map<String, List<Endpoint>> endpoints) {
  public static final ClusterSet EMPTY = new ClusterSet(Map.of(), Map.of());

  public ClusterSet {
    clusters = Map.copyOf(clusters);
    endpoints = Map.copyOf(endpoints);
  }

  public Optional<ClusterConfig> cluster(String name) {
    return Optional.ofNullable(clusters.get(name));
  }

  /** The endpoints of cluster {@code name} (looked up by its EDS service name), maybe empty. */
  public List<Endpoint> endpointsOf(String name) {
    ClusterConfig c = clusters.get(name);
    if (c == null) {
      return List.of();
    }
    return endpoints.getOrDefault(c.edsServiceName(), List.of());
  }
}
