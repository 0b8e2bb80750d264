package dev.meshwork.controlplane.translate;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.meshwork.api.MeshConstants;
import dev.meshwork.api.security.v1alpha1.PeerAuthenticationSpec.Mode;
import dev.meshwork.controlplane.model.Endpoint;
import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.model.MeshService;
import dev.meshwork.controlplane.model.ServicePort;
import dev.meshwork.controlplane.model.Workload;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * LDS: one outbound {@code api_listener} per Service port (what grpc-java resolves for {@code
 * xds:///<fqdn>:<port>}), and for a sidecar the inbound listener {@code inbound|15006} whose filter
 * chains follow the workload's PeerAuthentication per port. Pure.
 */
public final class ListenerTranslator {
  private ListenerTranslator() {}

  static final String TLS = "tls";
  static final String RAW = "raw_buffer";

  public static List<Listener> translate(MeshModel model, ProxyKey proxy) {
    List<Listener> out = new ArrayList<>(shared(model));
    inbound(model, proxy).ifPresent(out::add);
    return out;
  }

  static List<Listener> shared(MeshModel model) {
    List<Listener> out = new ArrayList<>();
    for (MeshService svc : model.services().values()) {
      for (ServicePort port : svc.ports()) {
        out.add(outbound(Names.outboundListener(svc.key(), port.port())));
      }
    }
    return out;
  }

  static Listener outbound(String name) {
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix(name)
            .setRds(
                Rds.newBuilder()
                    .setRouteConfigName(name)
                    .setConfigSource(
                        ConfigSource.newBuilder()
                            .setAds(AggregatedConfigSource.getDefaultInstance())
                            .setResourceApiVersion(ApiVersion.V3)))
            .addHttpFilters(router())
            .build();
    return Listener.newBuilder()
        .setName(name)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
        .build();
  }

  private static HttpFilter router() {
    return HttpFilter.newBuilder()
        .setName(Names.ROUTER_FILTER)
        .setTypedConfig(Any.pack(Router.getDefaultInstance()))
        .build();
  }

  /** The inbound listener of a sidecar whose workload is in the model; empty otherwise. */
  static Optional<Listener> inbound(MeshModel model, ProxyKey proxy) {
    if (!proxy.sidecar()) {
      return Optional.empty();
    }
    Optional<Workload> found = model.workload(proxy.namespace(), proxy.podName());
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Workload w = found.get();
    Listener.Builder l =
        Listener.newBuilder()
            .setName(Names.INBOUND_LISTENER)
            .setTrafficDirection(TrafficDirection.INBOUND)
            .setAddress(
                Address.newBuilder()
                    .setSocketAddress(
                        SocketAddress.newBuilder()
                            .setAddress("0.0.0.0")
                            .setPortValue(MeshConstants.SIDECAR_INBOUND_PORT)))
            .addListenerFilters(
                ListenerFilter.newBuilder()
                    .setName(Names.TLS_INSPECTOR)
                    .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance())));
    for (int port : inboundPorts(model, w)) {
      Mode mode = MtlsResolver.resolve(model, w.namespace(), w.labels(), port);
      if (mode != Mode.DISABLE) {
        l.addFilterChains(
            chain(port, TLS)
                .setTransportSocket(
                    TransportSocket.newBuilder()
                        .setName(Names.TLS_TRANSPORT_SOCKET)
                        .setTypedConfig(
                            Any.pack(
                                DownstreamTlsContext.newBuilder()
                                    .setRequireClientCertificate(
                                        com.google.protobuf.BoolValue.of(true))
                                    .setCommonTlsContext(
                                        Tls.common(
                                            List.of(), "spiffe://" + model.trustDomain() + "/"))
                                    .build()))));
      }
      if (mode != Mode.STRICT) {
        l.addFilterChains(chain(port, RAW));
      }
    }
    return Optional.of(l.build());
  }

  private static FilterChain.Builder chain(int port, String transport) {
    String cluster = Names.inboundCluster(port);
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix("inbound_" + port)
            .setRouteConfig(
                RouteConfiguration.newBuilder()
                    .setName("inbound|" + port)
                    .addVirtualHosts(
                        VirtualHost.newBuilder()
                            .setName("inbound|" + port)
                            .addDomains("*")
                            .addRoutes(
                                Route.newBuilder()
                                    .setName("default")
                                    .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                    .setRoute(RouteAction.newBuilder().setCluster(cluster)))))
            .addHttpFilters(router())
            .build();
    return FilterChain.newBuilder()
        .setName("inbound|" + port + "|" + transport)
        .setFilterChainMatch(
            FilterChainMatch.newBuilder()
                .setDestinationPort(UInt32Value.of(port))
                .setTransportProtocol(transport))
        .addFilters(Filter.newBuilder().setName(Names.HCM_FILTER).setTypedConfig(Any.pack(hcm)));
  }

  /** The workload's container ports plus every port a Service's endpoints use on this pod. */
  static List<Integer> inboundPorts(MeshModel model, Workload w) {
    TreeSet<Integer> ports = new TreeSet<>(w.containerPorts());
    ports.addAll(EndpointPorts.of(model).getOrDefault(w.key(), Set.of()));
    return List.copyOf(ports);
  }

  /**
   * Endpoint ports by {@code <namespace>/<pod>}, built once per model rather than by scanning every
   * endpoint for every proxy (10,000 endpoints times 1,000 proxies per push).
   */
  private record EndpointPorts(MeshModel model, Map<String, Set<Integer>> byPod) {
    private static volatile EndpointPorts last;

    static Map<String, Set<Integer>> of(MeshModel model) {
      EndpointPorts l = last;
      if (l != null && l.model == model) {
        return l.byPod;
      }
      Map<String, Set<Integer>> byPod = new HashMap<>();
      for (MeshService svc : model.services().values()) {
        for (List<Endpoint> eps : svc.endpointsByPort().values()) {
          for (Endpoint e : eps) {
            if (!e.pod().isEmpty()) {
              byPod
                  .computeIfAbsent(svc.key().namespace() + "/" + e.pod(), k -> new TreeSet<>())
                  .add(e.port());
            }
          }
        }
      }
      last = new EndpointPorts(model, byPod);
      return byPod;
    }
  }
}
