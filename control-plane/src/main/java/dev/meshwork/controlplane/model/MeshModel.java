package dev.meshwork.controlplane.model;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything the translator reads, at one instant. Immutable: collections are copies, and the
 * fabric8 objects it holds (routes, policies) are never mutated after the builder made the model.
 *
 * @param generation increases by one with every model the builder makes (for logs and debug)
 * @param trustDomain the SPIFFE trust domain of this mesh
 * @param services every Service, sorted by namespace and name (translation order is stable)
 * @param workloads pods by {@code <namespace>/<pod>}
 * @param routes accepted GRPCRoutes (the last good version of each)
 * @param namespaceLabels namespace name to its labels
 */
public record MeshModel(
    long generation,
    String trustDomain,
    SortedMap<ServiceKey, MeshService> services,
    Map<String, Workload> workloads,
    List<AttachedRoute> routes,
    List<PeerAuthentication> peerAuthentications,
    List<AuthorizationPolicy> authorizationPolicies,
    List<TrafficPolicy> trafficPolicies,
    Map<String, Map<String, String>> namespaceLabels) {

  public MeshModel {
    services = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(services));
    workloads = Map.copyOf(workloads);
    routes = List.copyOf(routes);
    peerAuthentications = List.copyOf(peerAuthentications);
    authorizationPolicies = List.copyOf(authorizationPolicies);
    trafficPolicies = List.copyOf(trafficPolicies);
    namespaceLabels = Map.copyOf(namespaceLabels);
  }

  /** The empty mesh: what proxies see before the first config arrives. */
  public static MeshModel empty(String trustDomain) {
    return new MeshModel(
        0,
        trustDomain,
        new TreeMap<>(),
        Map.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        Map.of());
  }

  public Optional<MeshService> service(ServiceKey key) {
    return Optional.ofNullable(services.get(key));
  }

  public Optional<Workload> workload(String namespace, String pod) {
    return Optional.ofNullable(workloads.get(namespace + "/" + pod));
  }

  /** Accepted routes attached to one Service port, in no particular order. */
  public List<AttachedRoute> routesFor(ServiceKey key, int port) {
    return routes.stream().filter(r -> r.attachesTo(key, port)).toList();
  }
}
