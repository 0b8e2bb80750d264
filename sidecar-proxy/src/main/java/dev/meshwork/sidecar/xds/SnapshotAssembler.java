package dev.meshwork.sidecar.xds;

import dev.meshwork.sidecar.cluster.ClusterConfig;
import dev.meshwork.sidecar.cluster.ClusterSet;
import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.config.InboundPolicy;
import dev.meshwork.sidecar.config.OutboundListener;
import dev.meshwork.sidecar.config.SidecarSnapshot;
import dev.meshwork.sidecar.route.Route;
import dev.meshwork.sidecar.route.RouteTable;
import dev.meshwork.sidecar.route.VirtualHost;
import dev.meshwork.sidecar.route.WeightedCluster;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Joins the accepted resources of each type into one {@link SidecarSnapshot}. Pure. */
public final class SnapshotAssembler {
  private SnapshotAssembler() {}

  public static SidecarSnapshot assemble(
      Map<String, ListenerResource> listeners,
      Map<String, RouteTable> routes,
      Map<String, ClusterConfig> clusters,
      Map<String, List<Endpoint>> endpoints,
      Map<String, String> versions) {
    Map<String, OutboundListener> outbound = new HashMap<>();
    InboundPolicy inbound = InboundPolicy.NONE;
    for (ListenerResource l : listeners.values()) {
      if (l.outbound() != null) {
        outbound.put(l.outbound().name(), l.outbound());
      } else {
        inbound = l.inbound();
      }
    }
    return new SidecarSnapshot(
        outbound, routes, new ClusterSet(clusters, endpoints), inbound, versions);
  }

  /** RDS names to subscribe: every outbound listener's route config. */
  public static Set<String> routeNames(Map<String, ListenerResource> listeners) {
    Set<String> out = new TreeSet<>();
    for (ListenerResource l : listeners.values()) {
      if (l.outbound() != null) {
        out.add(l.outbound().routeConfigName());
      }
    }
    return out;
  }

  /** CDS names to subscribe: every cluster a route sends to or mirrors to. */
  public static Set<String> clusterNames(Map<String, RouteTable> routes) {
    Set<String> out = new TreeSet<>();
    for (RouteTable t : routes.values()) {
      for (VirtualHost vh : t.virtualHosts()) {
        for (Route r : vh.routes()) {
          for (WeightedCluster c : r.clusters()) {
            out.add(c.name());
          }
          for (Route.Mirror m : r.mirrors()) {
            out.add(m.cluster());
          }
        }
      }
    }
    return out;
  }

  /** EDS names to subscribe: every cluster's EDS service name. */
  public static Set<String> endpointNames(Map<String, ClusterConfig> clusters) {
    Set<String> out = new TreeSet<>();
    for (ClusterConfig c : clusters.values()) {
      out.add(c.edsServiceName());
    }
    return out;
  }
}
