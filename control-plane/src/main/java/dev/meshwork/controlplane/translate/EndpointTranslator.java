package dev.meshwork.controlplane.translate;

import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import dev.meshwork.controlplane.model.Endpoint;
import dev.meshwork.controlplane.model.MeshModel;
import dev.meshwork.controlplane.model.MeshService;
import dev.meshwork.controlplane.model.ServicePort;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.List;

/**
 * EDS: one {@link ClusterLoadAssignment} per Service port, named like its cluster, with the ready
 * endpoints. Pure.
 *
 * <p>The locality carries {@code load_balancing_weight} 1 because grpc-java drops localities
 * without a weight; each endpoint has weight 1 and {@code meshwork} metadata (pod, workload,
 * version).
 */
public final class EndpointTranslator {
  private EndpointTranslator() {}

  public static List<ClusterLoadAssignment> translate(MeshModel model, ProxyKey proxy) {
    return shared(model);
  }

  static List<ClusterLoadAssignment> shared(MeshModel model) {
    List<ClusterLoadAssignment> out = new ArrayList<>();
    for (MeshService svc : model.services().values()) {
      for (ServicePort port : svc.ports()) {
        out.add(assignment(svc, port.port()));
      }
    }
    return out;
  }

  public static ClusterLoadAssignment assignment(MeshService svc, int port) {
    String name = Names.outboundCluster(svc.key(), port);
    List<LbEndpoint> endpoints = new ArrayList<>();
    for (Endpoint e : svc.endpoints(port)) {
      if (e.ready()) {
        endpoints.add(lbEndpoint(e.ip(), e.port(), e));
      }
    }
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(name);
    if (!endpoints.isEmpty()) {
      cla.addEndpoints(locality(endpoints));
    }
    return cla.build();
  }

  static LocalityLbEndpoints locality(List<LbEndpoint> endpoints) {
    return LocalityLbEndpoints.newBuilder()
        .setLocality(Locality.getDefaultInstance())
        .setLoadBalancingWeight(UInt32Value.of(1))
        .addAllLbEndpoints(endpoints)
        .build();
  }

  /**
   * @param e the model endpoint for metadata, or null for a local (inbound) address
   */
  static LbEndpoint lbEndpoint(String ip, int port, Endpoint e) {
    LbEndpoint.Builder b =
        LbEndpoint.newBuilder()
            .setEndpoint(
                io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                    .setAddress(
                        Address.newBuilder()
                            .setSocketAddress(
                                SocketAddress.newBuilder().setAddress(ip).setPortValue(port))))
            .setHealthStatus(HealthStatus.HEALTHY)
            .setLoadBalancingWeight(UInt32Value.of(1));
    if (e != null) {
      b.setMetadata(
          Metadata.newBuilder()
              .putFilterMetadata(
                  Names.METADATA_NAMESPACE,
                  Struct.newBuilder()
                      .putFields("pod", Value.newBuilder().setStringValue(e.pod()).build())
                      .putFields(
                          "workload", Value.newBuilder().setStringValue(e.workload()).build())
                      .putFields("version", Value.newBuilder().setStringValue(e.version()).build())
                      .build()));
    }
    return b.build();
  }
}
