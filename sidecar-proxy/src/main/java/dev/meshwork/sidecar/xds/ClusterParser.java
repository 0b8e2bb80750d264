package dev.meshwork.sidecar.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.meshwork.sidecar.cluster.ClusterConfig;
import dev.meshwork.sidecar.lb.LbPolicy;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * CDS: EDS clusters only, with round robin or least request balancing (peak EWMA when the cluster
 * metadata {@code filter_metadata["meshwork"].lb} says {@code PEAK_EWMA}), and an optional {@code
 * UpstreamTlsContext} naming certificate provider instance {@code default}.
 */
public final class ClusterParser implements ResourceParser<ClusterConfig> {
  static final String CERT_PROVIDER_INSTANCE = "default";

  @Override
  public String typeUrl() {
    return TypeUrls.CLUSTER;
  }

  @Override
  public Parsed<ClusterConfig> parse(Any resource) {
    Cluster c;
    try {
      c = resource.unpack(Cluster.class);
    } catch (InvalidProtocolBufferException e) {
      return Parsed.error("?", List.of("not a Cluster: " + e.getMessage()));
    }
    String name = c.getName();
    List<String> errors = new ArrayList<>();
    if (name.isEmpty()) {
      return Parsed.error("?", List.of("cluster without a name"));
    }
    if (c.getType() != Cluster.DiscoveryType.EDS) {
      errors.add("type must be EDS, got " + c.getType());
    }
    String eds = c.getEdsClusterConfig().getServiceName();
    if (eds.isEmpty()) {
      eds = name;
    }
    LbPolicy policy =
        switch (c.getLbPolicy()) {
          case ROUND_ROBIN -> LbPolicy.ROUND_ROBIN;
          case LEAST_REQUEST -> LbPolicy.LEAST_REQUEST;
          default -> {
            errors.add(
                "lb_policy " + c.getLbPolicy() + " is not supported (ROUND_ROBIN, LEAST_REQUEST)");
            yield LbPolicy.ROUND_ROBIN;
          }
        };
    Struct meta = c.getMetadata().getFilterMetadataMap().get("meshwork");
    if (meta != null) {
      Value lb = meta.getFieldsMap().get("lb");
      if (lb != null && lb.getStringValue().equals("PEAK_EWMA")) {
        policy = LbPolicy.PEAK_EWMA;
      }
    }
    Duration connect =
        c.hasConnectTimeout()
            ? Duration.ofSeconds(
                c.getConnectTimeout().getSeconds(), c.getConnectTimeout().getNanos())
            : Duration.ofSeconds(5);
    boolean tls = false;
    List<String> sans = new ArrayList<>();
    if (c.hasTransportSocket()) {
      Any cfg = c.getTransportSocket().getTypedConfig();
      if (cfg.getTypeUrl().equals(TypeUrls.UPSTREAM_TLS)) {
        tls = true;
        try {
          UpstreamTlsContext utc = cfg.unpack(UpstreamTlsContext.class);
          checkProviders(utc.getCommonTlsContext(), errors);
          var common = utc.getCommonTlsContext();
          List<StringMatcher> matchers =
              common.hasCombinedValidationContext()
                  ? common
                      .getCombinedValidationContext()
                      .getDefaultValidationContext()
                      .getMatchSubjectAltNamesList()
                  : common.getValidationContext().getMatchSubjectAltNamesList();
          for (StringMatcher m : matchers) {
            if (m.getMatchPatternCase() != StringMatcher.MatchPatternCase.EXACT) {
              errors.add("match_subject_alt_names must be exact SPIFFE IDs");
            } else {
              sans.add(m.getExact());
            }
          }
        } catch (InvalidProtocolBufferException e) {
          errors.add("bad UpstreamTlsContext: " + e.getMessage());
        }
      } else if (!cfg.getTypeUrl().isEmpty()
          && !c.getTransportSocket().getName().equals("envoy.transport_sockets.raw_buffer")) {
        errors.add("unsupported transport socket " + cfg.getTypeUrl());
      }
    }
    if (!errors.isEmpty()) {
      return Parsed.error(name, errors);
    }
    return Parsed.ok(name, new ClusterConfig(name, eds, policy, connect, tls, sans));
  }

  /** Keys never travel over xDS: a TLS context must name our certificate provider instance. */
  static void checkProviders(CommonTlsContext common, List<String> errors) {
    if (common.getTlsCertificatesCount() > 0
        || common.getTlsCertificateSdsSecretConfigsCount() > 0) {
      errors.add(
          "TLS certificates must come from certificate provider instance 'default', not inline or SDS");
    }
    if (common.hasTlsCertificateProviderInstance()
        && !common
            .getTlsCertificateProviderInstance()
            .getInstanceName()
            .equals(CERT_PROVIDER_INSTANCE)) {
      errors.add(
          "unknown certificate provider instance '"
              + common.getTlsCertificateProviderInstance().getInstanceName()
              + "'");
    }
  }
}
