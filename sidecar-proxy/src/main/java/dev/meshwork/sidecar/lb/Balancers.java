package dev.meshwork.sidecar.lb;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One {@link LoadBalancer} per cluster name, kept across config pushes (so a round-robin cursor
 * survives) and replaced when the cluster's policy changes. Thread-safe.
 */
public final class Balancers {
  private record Entry(LbPolicy policy, LoadBalancer lb) {}

  private final Map<String, Entry> byCluster = new ConcurrentHashMap<>();
  private final LoadRegistry loads;

  public Balancers(LoadRegistry loads) {
    this.loads = loads;
  }

  public LoadRegistry loads() {
    return loads;
  }

  public LoadBalancer forCluster(String cluster, LbPolicy policy) {
    Entry e = byCluster.get(cluster);
    if (e != null && e.policy() == policy) {
      return e.lb();
    }
    return byCluster
        .compute(
            cluster,
            (k, old) ->
                old != null && old.policy() == policy
                    ? old
                    : new Entry(policy, LoadBalancer.create(policy, loads)))
        .lb();
  }
}
