package dev.meshwork.sidecar.config;

import dev.meshwork.sidecar.cluster.ClusterConfig;
import dev.meshwork.sidecar.cluster.ClusterSet;
import dev.meshwork.sidecar.route.Route;
import dev.meshwork.sidecar.route.RouteTable;
import dev.meshwork.sidecar.route.VirtualHost;
import dev.meshwork.sidecar.route.WeightedCluster;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * One consistent runtime configuration, built from the last accepted version of each xDS type.
 *
 * @param versions last accepted version per type URL, for the config dump
 */
public record SidecarSnapshot(
    Map<String, OutboundListener> listeners,
    Map<String, RouteTable> routes,
    ClusterSet clusters,
    InboundPolicy inbound,
    Map<String, String> versions) {

  public static final SidecarSnapshot EMPTY =
      new SidecarSnapshot(Map.of(), Map.of(), ClusterSet.EMPTY, InboundPolicy.NONE, Map.of());

  public SidecarSnapshot {
    listeners = Map.copyOf(listeners);
    routes = Map.copyOf(routes);
    versions = Map.copyOf(versions);
  }

  /**
   * What the outbound listeners need and this snapshot lacks: route tables, clusters their routes
   * send or mirror to, and those clusters' endpoints (an EDS answer, even an empty one). Empty when
   * the configuration is complete, so that no call can meet an unknown cluster.
   */
  public List<String> missing() {
    Set<String> out = new LinkedHashSet<>();
    // Sorted, so that the readiness page names the same things each time.
    for (OutboundListener l : new TreeMap<>(listeners).values()) {
      RouteTable t = routes.get(l.routeConfigName());
      if (t == null) {
        out.add("route '" + l.routeConfigName() + "'");
        continue;
      }
      for (VirtualHost vh : t.virtualHosts()) {
        for (Route r : vh.routes()) {
          List<String> names = new ArrayList<>();
          r.clusters().stream().map(WeightedCluster::name).forEach(names::add);
          r.mirrors().stream().map(Route.Mirror::cluster).forEach(names::add);
          for (String name : names) {
            ClusterConfig c = clusters.clusters().get(name);
            if (c == null) {
              out.add("cluster '" + name + "'");
            } else if (!clusters.endpoints().containsKey(c.edsServiceName())) {
              out.add("endpoints of '" + name + "'");
            }
          }
        }
      }
    }
    return List.copyOf(out);
  }

  /** A route table and its virtual host for a request authority. */
  public record HostMatch(RouteTable table, VirtualHost host) {}

  /**
   * Finds the virtual host serving {@code authority}: first the listener of that exact name ({@code
   * svc.ns.svc.cluster.local:port}), then any route table whose domains match.
   */
  public Optional<HostMatch> hostFor(String authority) {
    OutboundListener l = listeners.get(authority);
    if (l != null) {
      RouteTable t = routes.get(l.routeConfigName());
      if (t != null) {
        Optional<VirtualHost> vh = t.virtualHostFor(authority);
        if (vh.isPresent()) {
          return Optional.of(new HostMatch(t, vh.get()));
        }
      }
    }
    for (OutboundListener listener : listeners.values()) {
      RouteTable t = routes.get(listener.routeConfigName());
      if (t == null) {
        continue;
      }
      Optional<VirtualHost> vh = t.virtualHostFor(authority);
      if (vh.isPresent() && !vh.get().domains().contains("*")) {
        return Optional.of(new HostMatch(t, vh.get()));
      }
    }
    return Optional.empty();
  }
}
