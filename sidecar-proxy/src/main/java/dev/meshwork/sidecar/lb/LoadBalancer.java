package dev.meshwork.sidecar.lb;

import dev.meshwork.sidecar.cluster.Endpoint;
import java.util.List;
import java.util.Set;

/**
 * Picks the endpoint of one call. Implementations are thread-safe and keep only their own cursor;
 * load comes from the {@link LoadRegistry}.
 */
public interface LoadBalancer {
  /**
   * @param candidates the cluster's endpoints, in EDS order (unhealthy ones included)
   * @param exclude addresses already tried by this call (a retry goes elsewhere when it can)
   * @return the chosen endpoint, or null when none is healthy
   */
  Endpoint pick(List<Endpoint> candidates, Set<String> exclude);

  /** A balancer for {@code policy} reading load from {@code loads}. */
  static LoadBalancer create(LbPolicy policy, LoadRegistry loads) {
    return switch (policy) {
      case ROUND_ROBIN -> new RoundRobin(loads);
      case LEAST_REQUEST -> new LeastRequest(loads, false);
      case PEAK_EWMA -> new LeastRequest(loads, true);
    };
  }
}
