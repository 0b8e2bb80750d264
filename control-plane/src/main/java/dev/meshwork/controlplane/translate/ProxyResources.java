package dev.meshwork.controlplane.translate;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;

/**
 * One proxy's complete xDS config with one version per type. A version is a hash of that type's
 * resources, so equal resources give equal versions and the cache sends nothing.
 */
public record ProxyResources(
    List<Listener> listeners,
    List<RouteConfiguration> routes,
    List<Cluster> clusters,
    List<ClusterLoadAssignment> endpoints,
    Versions versions) {
  public ProxyResources {
    listeners = List.copyOf(listeners);
    routes = List.copyOf(routes);
    clusters = List.copyOf(clusters);
    endpoints = List.copyOf(endpoints);
  }

  /** Per-type versions (hex hashes). */
  public record Versions(String listeners, String routes, String clusters, String endpoints) {}
}
