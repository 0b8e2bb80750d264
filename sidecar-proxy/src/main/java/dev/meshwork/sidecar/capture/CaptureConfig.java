package dev.meshwork.sidecar.capture;

import dev.meshwork.api.MeshConstants;
import java.util.List;

/**
 * What to capture.
 *
 * @param inboundPort the sidecar's inbound capture port (15006)
 * @param outboundPort the sidecar's outbound capture port (15001)
 * @param proxyUid the sidecar's UID, whose traffic is never captured (1337)
 * @param excludeInboundPorts inbound destination ports left alone (admin, metrics, health, ...)
 * @param excludeOutboundPorts outbound destination ports left alone
 * @param excludeOutboundCidrs outbound destinations left alone (IPv4 CIDRs)
 */
public record CaptureConfig(
    int inboundPort,
    int outboundPort,
    long proxyUid,
    List<Integer> excludeInboundPorts,
    List<Integer> excludeOutboundPorts,
    List<String> excludeOutboundCidrs) {

  public CaptureConfig {
    excludeInboundPorts = List.copyOf(excludeInboundPorts);
    excludeOutboundPorts = List.copyOf(excludeOutboundPorts);
    excludeOutboundCidrs = List.copyOf(excludeOutboundCidrs);
  }

  /** The defaults the injector also passes explicitly. */
  public static CaptureConfig defaults() {
    return new CaptureConfig(
        MeshConstants.SIDECAR_INBOUND_PORT,
        MeshConstants.SIDECAR_OUTBOUND_PORT,
        MeshConstants.SIDECAR_UID,
        List.of(MeshConstants.SIDECAR_ADMIN_PORT, MeshConstants.SIDECAR_METRICS_PORT, 15021),
        List.of(),
        List.of());
  }
}
