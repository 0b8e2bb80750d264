package dev.meshwork.sidecar.lb;

import dev.meshwork.sidecar.cluster.Endpoint;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Power of two choices: draw two distinct eligible endpoints at random, keep the less loaded one.
 * Load is calls in flight, or the peak-EWMA cost when {@code ewma} is set.
 */
final class LeastRequest implements LoadBalancer {
  private final LoadRegistry loads;
  private final boolean ewma;

  LeastRequest(LoadRegistry loads, boolean ewma) {
    this.loads = loads;
    this.ewma = ewma;
  }

  @Override
  public Endpoint pick(List<Endpoint> candidates, Set<String> exclude) {
    List<Endpoint> eligible = Eligible.of(candidates, exclude, loads);
    int n = eligible.size();
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return eligible.getFirst();
    }
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    int i = rnd.nextInt(n);
    int j = rnd.nextInt(n - 1);
    if (j >= i) {
      j++;
    }
    Endpoint a = eligible.get(i);
    Endpoint b = eligible.get(j);
    return cost(a) <= cost(b) ? a : b;
  }

  private double cost(Endpoint e) {
    EndpointLoad l = loads.of(e.address());
    return ewma ? l.ewmaCost() : l.active();
  }
}
