package dev.meshwork.controlplane.source;

import dev.meshwork.api.networking.v1alpha1.TrafficPolicy;
import dev.meshwork.api.security.v1alpha1.AuthorizationPolicy;
import dev.meshwork.api.security.v1alpha1.PeerAuthentication;
import dev.meshwork.controlplane.model.RawConfig;
import dev.meshwork.controlplane.model.UnreadableObject;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Sorts a bag of fabric8 objects into a {@link RawConfig}; kinds the mesh ignores are dropped. */
final class Classifier {
  private Classifier() {}

  static RawConfig classify(Collection<? extends HasMetadata> objects) {
    return classify(objects, List.of());
  }

  /** As {@link #classify(Collection)}, with the CRD objects that could not be read. */
  static RawConfig classify(
      Collection<? extends HasMetadata> objects, List<UnreadableObject> unreadable) {
    List<Service> services = new ArrayList<>();
    List<EndpointSlice> slices = new ArrayList<>();
    List<Pod> pods = new ArrayList<>();
    List<Namespace> namespaces = new ArrayList<>();
    List<GRPCRoute> routes = new ArrayList<>();
    List<PeerAuthentication> pas = new ArrayList<>();
    List<AuthorizationPolicy> aps = new ArrayList<>();
    List<TrafficPolicy> tps = new ArrayList<>();
    for (HasMetadata o : objects) {
      switch (o) {
        case Service s -> services.add(s);
        case EndpointSlice s -> slices.add(s);
        case Pod p -> pods.add(p);
        case Namespace n -> namespaces.add(n);
        case GRPCRoute r -> routes.add(r);
        case PeerAuthentication p -> pas.add(p);
        case AuthorizationPolicy a -> aps.add(a);
        case TrafficPolicy t -> tps.add(t);
        default -> {}
      }
    }
    return new RawConfig(services, slices, pods, namespaces, routes, pas, aps, tps, unreadable);
  }

  /** True for the kinds {@link #classify} keeps. */
  static boolean relevant(HasMetadata o) {
    return o instanceof Service
        || o instanceof EndpointSlice
        || o instanceof Pod
        || o instanceof Namespace
        || o instanceof GRPCRoute
        || o instanceof PeerAuthentication
        || o instanceof AuthorizationPolicy
        || o instanceof TrafficPolicy;
  }
}
