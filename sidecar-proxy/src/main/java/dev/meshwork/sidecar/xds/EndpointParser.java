package dev.meshwork.sidecar.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import dev.meshwork.sidecar.cluster.Endpoint;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * EDS: socket addresses with ports, health, weight and {@code filter_metadata["meshwork"]} strings.
 * The record is the list of endpoints of one EDS service name.
 */
public final class EndpointParser implements ResourceParser<List<Endpoint>> {

  @Override
  public String typeUrl() {
    return TypeUrls.ENDPOINT;
  }

  @Override
  public Parsed<List<Endpoint>> parse(Any resource) {
    ClusterLoadAssignment cla;
    try {
      cla = resource.unpack(ClusterLoadAssignment.class);
    } catch (InvalidProtocolBufferException e) {
      return Parsed.error("?", List.of("not a ClusterLoadAssignment: " + e.getMessage()));
    }
    String name = cla.getClusterName();
    List<String> errors = new ArrayList<>();
    List<Endpoint> out = new ArrayList<>();
    for (LocalityLbEndpoints loc : cla.getEndpointsList()) {
      for (LbEndpoint lbe : loc.getLbEndpointsList()) {
        if (!lbe.hasEndpoint() || !lbe.getEndpoint().getAddress().hasSocketAddress()) {
          errors.add("an endpoint has no socket address");
          continue;
        }
        var sa = lbe.getEndpoint().getAddress().getSocketAddress();
        if (sa.getAddress().isEmpty() || sa.getPortValue() < 1 || sa.getPortValue() > 65535) {
          errors.add(
              "endpoint '"
                  + sa.getAddress()
                  + ":"
                  + sa.getPortValue()
                  + "' has no address or a bad port");
          continue;
        }
        HealthStatus hs = lbe.getHealthStatus();
        boolean healthy =
            hs == HealthStatus.UNKNOWN || hs == HealthStatus.HEALTHY || hs == HealthStatus.DEGRADED;
        int weight = lbe.hasLoadBalancingWeight() ? lbe.getLoadBalancingWeight().getValue() : 1;
        if (weight < 1) {
          errors.add("endpoint '" + sa.getAddress() + ":" + sa.getPortValue() + "' has weight 0");
          continue;
        }
        Map<String, String> meta = new HashMap<>();
        Struct s = lbe.getMetadata().getFilterMetadataMap().get("meshwork");
        if (s != null) {
          s.getFieldsMap().forEach((k, v) -> meta.put(k, v.getStringValue()));
        }
        out.add(new Endpoint(sa.getAddress(), sa.getPortValue(), weight, healthy, meta));
      }
    }
    if (!errors.isEmpty()) {
      return Parsed.error(name, errors);
    }
    return Parsed.ok(name, List.copyOf(out));
  }
}
