package dev.meshwork.sidecar.cluster;

import dev.meshwork.sidecar.lb.LbPolicy;
import java.time.Duration;
import java.util.List;

/**
 * A parsed CDS cluster.
 *
 * @param edsServiceName the EDS resource holding its endpoints
 * @param upstreamTls true when the cluster asks for mTLS to its endpoints (an {@code
 *     UpstreamTlsContext} transport socket)
 * @param subjectAltNames SPIFFE IDs the upstream certificate must carry (exact URI SANs)
 */
public record ClusterConfig(
    String name,
    String edsServiceName,
    LbPolicy lbPolicy,
    Duration connectTimeout,
    boolean upstreamTls,
    List<String> subjectAltNames) {
  public ClusterConfig {
    subjectAltNames = List.copyOf(subjectAltNames);
  }
}
