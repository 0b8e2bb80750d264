package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.lb.LoadBalancer;
import dev.meshwork.sidecar.route.HeaderMutations;
import java.time.Duration;
import java.util.List;

/**
 * Where one call goes, decided once from the snapshot the call read: the cluster, its endpoints and
 * balancer, header changes, timeout and mirrors.
 *
 * @param timeout route timeout, or null
 * @param tls true when the upstream hop must be mTLS
 * @param mirrors the clusters this call is copied to (empty for most calls)
 */
public record CallTarget(
    String cluster,
    List<Endpoint> endpoints,
    LoadBalancer lb,
    HeaderMutations mutations,
    Duration timeout,
    int connectTimeoutMillis,
    boolean tls,
    List<Mirror> mirrors) {

  /**
   * A cluster that gets a fire-and-forget copy of this call (already sampled by the route's
   * percentage), with what is needed to reach one of its endpoints.
   */
  public record Mirror(
      String cluster,
      List<Endpoint> endpoints,
      LoadBalancer lb,
      int connectTimeoutMillis,
      boolean tls) {
    public Mirror {
      endpoints = List.copyOf(endpoints);
    }
  }

  public CallTarget {
    endpoints = List.copyOf(endpoints);
    mirrors = List.copyOf(mirrors);
  }
}
