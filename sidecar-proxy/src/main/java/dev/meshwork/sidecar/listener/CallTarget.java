package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.cluster.Endpoint;
import dev.meshwork.sidecar.lb.LoadBalancer;
import dev.meshwork.sidecar.route.HeaderMutations;
import dev.meshwork.sidecar.route.Route;
import java.time.Duration;
import java.util.List;

/**
 * Where one call goes, decided once from the snapshot the call read: the cluster, its endpoints and
 * balancer, header changes, timeout and mirrors.
 *
 * @param timeout route timeout, or null
 * @param tls true when the upstream hop must be mTLS
 */
public record CallTarget(
    String cluster,
    List<Endpoint> endpoints,
    LoadBalancer lb,
    HeaderMutations mutations,
    Duration timeout,
    int connectTimeoutMillis,
    boolean tls,
    List<Route.Mirror> mirrors) {
  public CallTarget {
    endpoints = List.copyOf(endpoints);
    mirrors = List.copyOf(mirrors);
  }
}
