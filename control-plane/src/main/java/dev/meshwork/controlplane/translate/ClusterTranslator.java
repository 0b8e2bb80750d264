package dev.meshwork.controlplane.translate;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.meshwork.api.networking.v1alpha1.TrafficPolicySpec;
import dev.meshwork.api.security.v1alpha1.PeerAuthenticationSpec.Mode;
import dev.meshwork.controlplane.model.Endpoint;
import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.model.MeshService;
import dev.meshwork.controlplane.model.ServicePort;
import dev.meshwork.controlplane.model.Workload;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.v3.Percent;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * CDS: one EDS cluster per Service port ({@code outbound|<port>||<fqdn>}), with the Service's
 * TrafficPolicy (load balancing, limits, outlier detection) and auto-mTLS; plus, for a sidecar, one
 * static {@code inbound|<port>||} cluster per local application port. Pure.
 */
public final class ClusterTranslator {
  private ClusterTranslator() {}

  public static List<Cluster> translate(MeshModel model, ProxyKey proxy) {
    List<Cluster> out = new ArrayList<>(shared(model));
    out.addAll(inbound(model, proxy));
    return out;
  }

  static List<Cluster> shared(MeshModel model) {
    List<Cluster> out = new ArrayList<>();
    for (MeshService svc : model.services().values()) {
      for (ServicePort port : svc.ports()) {
        out.add(outbound(model, svc, port.port()));
      }
    }
    return out;
  }

  /** The clusters of the proxy's own application ports (empty for proxyless clients). */
  static List<Cluster> inbound(MeshModel model, ProxyKey proxy) {
    if (!proxy.sidecar()) {
      return List.of();
    }
    Optional<Workload> w = model.workload(proxy.namespace(), proxy.podName());
    if (w.isEmpty()) {
      return List.of();
    }
    List<Cluster> out = new ArrayList<>();
    for (int port : ListenerTranslator.inboundPorts(model, w.get())) {
      String name = Names.inboundCluster(port);
      out.add(
          Cluster.newBuilder()
              .setName(name)
              .setType(Cluster.DiscoveryType.STATIC)
              .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(5))
              .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
              .setLoadAssignment(
                  ClusterLoadAssignment.newBuilder()
                      .setClusterName(name)
                      .addEndpoints(
                          EndpointTranslator.locality(
                              List.of(EndpointTranslator.lbEndpoint("127.0.0.1", port, null)))))
              .build());
    }
    return out;
  }

  /** The cluster of one Service port. */
  public static Cluster outbound(MeshModel model, MeshService svc, int port) {
    String name = Names.outboundCluster(svc.key(), port);
    Optional<TrafficPolicySpec> policy = TrafficPolicies.forService(model, svc.key());
    Cluster.Builder c =
        Cluster.newBuilder()
            .setName(name)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(
                Cluster.EdsClusterConfig.newBuilder()
                    .setServiceName(name)
                    .setEdsConfig(
                        ConfigSource.newBuilder()
                            .setAds(AggregatedConfigSource.getDefaultInstance())
                            .setResourceApiVersion(ApiVersion.V3)))
            .setConnectTimeout(connectTimeout(policy))
            .setLbPolicy(lbPolicy(policy));
    HttpProtocolOptions.Builder common = HttpProtocolOptions.newBuilder();
    policy
        .map(TrafficPolicySpec::connectionLimits)
        .map(TrafficPolicySpec.ConnectionLimits::maxRequestsPerConnection)
        .ifPresent(n -> common.setMaxRequestsPerConnection(UInt32Value.of(n)));
    policy
        .map(TrafficPolicySpec::timeouts)
        .map(TrafficPolicySpec.Timeouts::idle)
        .ifPresent(
            idle -> {
              try {
                common.setIdleTimeout(Durations.parse(idle));
              } catch (IllegalArgumentException e) {
                // ignored: reported against the TrafficPolicy, the cluster keeps working
              }
            });
    c.putTypedExtensionProtocolOptions(
        Names.HTTP_PROTOCOL_OPTIONS,
        Any.pack(
            io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder()
                .setCommonHttpProtocolOptions(common)
                .setExplicitHttpConfig(
                    io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                        .ExplicitHttpConfig.newBuilder()
                        .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
                .build()));
    policy.ifPresent(p -> limitsAndOutliers(c, p));

    // Auto-mTLS: speak TLS when every ready endpoint has a sidecar that accepts it.
    List<Endpoint> ready = svc.endpoints(port).stream().filter(Endpoint::ready).toList();
    boolean tls =
        !ready.isEmpty()
            && ready.stream().allMatch(Endpoint::meshed)
            && ready.stream().noneMatch(e -> endpointMode(model, e) == Mode.DISABLE);
    if (tls) {
      TreeSet<String> sans = new TreeSet<>();
      for (Endpoint e : ready) {
        sans.add(
            new dev.meshwork.api.SpiffeId(
                    model.trustDomain(),
                    e.namespace(),
                    e.serviceAccount().isEmpty() ? "default" : e.serviceAccount())
                .uri());
      }
      c.setTransportSocket(
          TransportSocket.newBuilder()
              .setName(Names.TLS_TRANSPORT_SOCKET)
              .setTypedConfig(
                  Any.pack(
                      UpstreamTlsContext.newBuilder()
                          .setSni(svc.key().fqdn())
                          .setCommonTlsContext(Tls.common(sans, null))
                          .build())));
    }
    return c.build();
  }

  private static Mode endpointMode(MeshModel model, Endpoint e) {
    java.util.Map<String, String> labels =
        model.workload(e.namespace(), e.pod()).map(Workload::labels).orElse(java.util.Map.of());
    return MtlsResolver.resolve(model, e.namespace(), labels, e.port());
  }

  private static com.google.protobuf.Duration connectTimeout(Optional<TrafficPolicySpec> policy) {
    String t =
        policy
            .map(TrafficPolicySpec::timeouts)
            .map(TrafficPolicySpec.Timeouts::connect)
            .orElse(null);
    if (t != null) {
      try {
        return Durations.parse(t);
      } catch (IllegalArgumentException e) {
        // fall through to the default
      }
    }
    return com.google.protobuf.Duration.newBuilder().setSeconds(5).build();
  }

  private static Cluster.LbPolicy lbPolicy(Optional<TrafficPolicySpec> policy) {
    TrafficPolicySpec.Algorithm a =
        policy
            .map(TrafficPolicySpec::loadBalancer)
            .map(TrafficPolicySpec.LoadBalancer::algorithm)
            .orElse(TrafficPolicySpec.Algorithm.ROUND_ROBIN);
    // PEAK_EWMA has no envoy lb_policy: LEAST_REQUEST is the closest the contract offers.
    return a == TrafficPolicySpec.Algorithm.ROUND_ROBIN
        ? Cluster.LbPolicy.ROUND_ROBIN
        : Cluster.LbPolicy.LEAST_REQUEST;
  }

  private static void limitsAndOutliers(Cluster.Builder c, TrafficPolicySpec p) {
    CircuitBreakers.Thresholds.Builder t = CircuitBreakers.Thresholds.newBuilder();
    boolean any = false;
    if (p.connectionLimits() != null) {
      if (p.connectionLimits().maxConnections() != null) {
        t.setMaxConnections(UInt32Value.of(p.connectionLimits().maxConnections()));
        any = true;
      }
      if (p.connectionLimits().maxPendingRequests() != null) {
        t.setMaxPendingRequests(UInt32Value.of(p.connectionLimits().maxPendingRequests()));
        any = true;
      }
    }
    if (p.retries() != null && p.retries().budget() != null) {
      CircuitBreakers.Thresholds.RetryBudget.Builder b =
          CircuitBreakers.Thresholds.RetryBudget.newBuilder();
      if (p.retries().budget().percent() != null) {
        b.setBudgetPercent(Percent.newBuilder().setValue(p.retries().budget().percent()));
      }
      if (p.retries().budget().minRetriesPerSecond() != null) {
        b.setMinRetryConcurrency(UInt32Value.of(p.retries().budget().minRetriesPerSecond()));
      }
      t.setRetryBudget(b);
      any = true;
    }
    if (any) {
      c.setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(t));
    }
    TrafficPolicySpec.OutlierDetection od = p.outlierDetection();
    if (od != null) {
      OutlierDetection.Builder o = OutlierDetection.newBuilder();
      if (od.consecutiveErrors() != null) {
        o.setConsecutive5Xx(UInt32Value.of(od.consecutiveErrors()));
      }
      try {
        if (od.interval() != null) {
          o.setInterval(Durations.parse(od.interval()));
        }
        if (od.baseEjectionTime() != null) {
          o.setBaseEjectionTime(Durations.parse(od.baseEjectionTime()));
        }
      } catch (IllegalArgumentException e) {
        // ignored as above
      }
      if (od.maxEjectionPercent() != null) {
        o.setMaxEjectionPercent(UInt32Value.of(Math.min(100, od.maxEjectionPercent())));
      }
      c.setOutlierDetection(o);
    }
  }
}
