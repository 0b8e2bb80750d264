package dev.meshwork.controlplane.model;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import java.util.List;

/**
 * Every object a config source currently sees, as the Kubernetes API (or YAML) gives it. This is
 * the input of {@link MeshModelBuilder}; a source hands over a complete, consistent set each time.
 *
 * @param unreadable objects of our CRDs that could not be turned into their Java type; the builder
 *     reports them and keeps their last good version
 */
public record RawConfig(
    List<Service> services,
    List<EndpointSlice> endpointSlices,
    List<Pod> pods,
    List<Namespace> namespaces,
    List<GRPCRoute> grpcRoutes,
    List<PeerAuthentication> peerAuthentications,
    List<AuthorizationPolicy> authorizationPolicies,
    List<TrafficPolicy> trafficPolicies,
    List<UnreadableObject> unreadable) {
  public RawConfig {
    services = List.copyOf(services);
    endpointSlices = List.copyOf(endpointSlices);
    pods = List.copyOf(pods);
    namespaces = List.copyOf(namespaces);
    grpcRoutes = List.copyOf(grpcRoutes);
    peerAuthentications = List.copyOf(peerAuthentications);
    authorizationPolicies = List.copyOf(authorizationPolicies);
    trafficPolicies = List.copyOf(trafficPolicies);
    unreadable = List.copyOf(unreadable);
  }

  /** A set in which every object could be read. */
  public RawConfig(
      List<Service> services,
      List<EndpointSlice> endpointSlices,
      List<Pod> pods,
      List<Namespace> namespaces,
      List<GRPCRoute> grpcRoutes,
      List<PeerAuthentication> peerAuthentications,
      List<AuthorizationPolicy> authorizationPolicies,
      List<TrafficPolicy> trafficPolicies) {
    this(
        services,
        endpointSlices,
        pods,
        namespaces,
        grpcRoutes,
        peerAuthentications,
        authorizationPolicies,
        trafficPolicies,
        List.of());
  }

  public static RawConfig empty() {
    return new RawConfig(
        List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
  }

  public int size() {
    return services.size()
        + endpointSlices.size()
        + pods.size()
        + namespaces.size()
        + grpcRoutes.size()
        + peerAuthentications.size()
        + authorizationPolicies.size()
        + trafficPolicies.size()
        + unreadable.size();
  }
}
