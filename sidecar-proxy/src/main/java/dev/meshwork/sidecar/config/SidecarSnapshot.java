package dev.meshwork.sidecar.config;

import dev.meshwork.sidecar.cluster.ClusterSet;
import dev.meshwork.sidecar.route.RouteTable;
import dev.meshwork.sidecar.route.VirtualHost;
import java.util.Map;
import java.util.Optional;

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
