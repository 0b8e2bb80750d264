package dev.meshwork.sidecar.lb;

import dev.meshwork.sidecar.cluster.Endpoint;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Round robin over the eligible endpoints (EDS weights are 1 in this mesh, so none are applied).
 */
final class RoundRobin implements LoadBalancer {
  private final AtomicInteger next = new AtomicInteger();
  private final LoadRegistry loads;

  RoundRobin(LoadRegistry loads) {
    this.loads = loads;
  }

  @Override
  public Endpoint pick(List<Endpoint> candidates, Set<String> exclude) {
    List<Endpoint> eligible = Eligible.of(candidates, exclude, loads);
    if (eligible.isEmpty()) {
      return null;
    }
    return eligible.get(Math.floorMod(next.getAndIncrement(), eligible.size()));
  }
}
