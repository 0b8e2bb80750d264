package dev.meshwork.controlplane.translate;

import dev.meshwork.controlplane.model.MeshModel;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.annotation.concurrent.ThreadSafe;

/**
 * Joins the four translators into one proxy's {@link ProxyResources}.
 *
 * <p>Outbound listeners, routes, clusters and endpoints do not depend on the proxy, so they are
 * translated once per model and shared by every proxy (with their hashes); only the inbound
 * listener and inbound clusters are translated per proxy. The result equals calling each
 * translator's {@code translate(model, proxy)}.
 */
@ThreadSafe
public final class SnapshotAssembler {

  private record Shared(
      MeshModel model,
      List<Listener> listeners,
      List<RouteConfiguration> routes,
      List<Cluster> clusters,
      List<ClusterLoadAssignment> endpoints,
      String listenersVersion,
      String routesVersion,
      String clustersVersion,
      String endpointsVersion) {}

  private volatile Shared shared;

  public ProxyResources assemble(MeshModel model, ProxyKey proxy) {
    Shared s = sharedFor(model);
    List<Listener> listeners = s.listeners;
    Optional<Listener> inbound = ListenerTranslator.inbound(model, proxy);
    if (inbound.isPresent()) {
      listeners = new ArrayList<>(s.listeners);
      listeners.add(inbound.get());
    }
    List<Cluster> clusters = s.clusters;
    List<Cluster> inboundClusters = ClusterTranslator.inbound(model, proxy);
    if (!inboundClusters.isEmpty()) {
      clusters = new ArrayList<>(s.clusters);
      clusters.addAll(inboundClusters);
    }
    // Listener and cluster versions hash the shared version plus the proxy's own resources.
    String ldsVersion =
        inbound.isEmpty()
            ? s.listenersVersion
            : new ResourceHash().add(s.listenersVersion).add(inbound.get()).hex();
    String cdsVersion =
        inboundClusters.isEmpty()
            ? s.clustersVersion
            : new ResourceHash().add(s.clustersVersion).addAll(inboundClusters).hex();
    return new ProxyResources(
        listeners,
        s.routes,
        clusters,
        s.endpoints,
        new ProxyResources.Versions(ldsVersion, s.routesVersion, cdsVersion, s.endpointsVersion));
  }

  private Shared sharedFor(MeshModel model) {
    Shared s = shared;
    if (s != null && s.model == model) {
      return s;
    }
    synchronized (this) {
      s = shared;
      if (s != null && s.model == model) {
        return s;
      }
      List<Listener> listeners = ListenerTranslator.shared(model);
      List<RouteConfiguration> routes = RouteTranslator.shared(model);
      List<Cluster> clusters = ClusterTranslator.shared(model);
      List<ClusterLoadAssignment> endpoints = EndpointTranslator.shared(model);
      s =
          new Shared(
              model,
              List.copyOf(listeners),
              List.copyOf(routes),
              List.copyOf(clusters),
              List.copyOf(endpoints),
              new ResourceHash().addAll(listeners).hex(),
              new ResourceHash().addAll(routes).hex(),
              new ResourceHash().addAll(clusters).hex(),
              new ResourceHash().addAll(endpoints).hex());
      shared = s;
      return s;
    }
  }
}
