package dev.meshwork.sidecar.testing;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.ArrayList;
import java.util.List;

/** Builds xDS resources the way docs/xds-contract.md names and shapes them. */
public final class XdsResources {
  private XdsResources() {}

  private static final ConfigSource ADS =
      ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();

  /** {@code <svc>.<ns>.svc.cluster.local:<port>}. */
  public static String hostPort(String svc, String ns, int port) {
    return svc + "." + ns + ".svc.cluster.local:" + port;
  }

  /** {@code outbound|<port>||<svc>.<ns>.svc.cluster.local}. */
  public static String clusterName(String svc, String ns, int port) {
    return "outbound|" + port + "||" + svc + "." + ns + ".svc.cluster.local";
  }

  public static Listener apiListener(String name) {
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setRds(Rds.newBuilder().setRouteConfigName(name).setConfigSource(ADS))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    return Listener.newBuilder()
        .setName(name)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
        .build();
  }

  /** The domains the contract lists for a Service port. */
  public static List<String> domains(String svc, String ns, int port) {
    List<String> out = new ArrayList<>();
    for (String d :
        List.of(
            svc, svc + "." + ns, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local")) {
      out.add(d);
      out.add(d + ":" + port);
    }
    return out;
  }

  public static Route defaultRoute(String cluster) {
    return Route.newBuilder()
        .setName("default")
        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(RouteAction.newBuilder().setCluster(cluster))
        .build();
  }

  public static RouteConfiguration routeConfig(String name, List<String> domains, Route... routes) {
    return RouteConfiguration.newBuilder()
        .setName(name)
        .addVirtualHosts(
            VirtualHost.newBuilder()
                .setName(name)
                .addAllDomains(domains)
                .addAllRoutes(List.of(routes)))
        .build();
  }

  public static Cluster cluster(String name, Cluster.LbPolicy policy) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(
            Cluster.EdsClusterConfig.newBuilder().setServiceName(name).setEdsConfig(ADS))
        .setLbPolicy(policy)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .build();
  }

  public static ClusterLoadAssignment endpoints(String name, int... ports) {
    LocalityLbEndpoints.Builder loc = LocalityLbEndpoints.newBuilder();
    for (int p : ports) {
      loc.addLbEndpoints(
          LbEndpoint.newBuilder()
              .setLoadBalancingWeight(UInt32Value.of(1))
              .setEndpoint(
                  io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                      .setAddress(
                          Address.newBuilder()
                              .setSocketAddress(
                                  SocketAddress.newBuilder()
                                      .setAddress("127.0.0.1")
                                      .setPortValue(p)))));
    }
    return ClusterLoadAssignment.newBuilder().setClusterName(name).addEndpoints(loc).build();
  }
}
