package dev.meshwork.sidecar.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.sidecar.cluster.Endpoint;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LoadBalancerTest {
  private static Endpoint ep(int port) {
    return new Endpoint("10.0.0.1", port, 1, true, Map.of());
  }

  @Test
  void roundRobinCyclesThroughHealthyEndpointsOnly() {
    LoadRegistry loads = new LoadRegistry();
    LoadBalancer lb = LoadBalancer.create(LbPolicy.ROUND_ROBIN, loads);
    List<Endpoint> eps = List.of(ep(1), ep(2), new Endpoint("10.0.0.1", 3, 1, false, Map.of()));
    Map<Integer, Integer> seen = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      seen.merge(lb.pick(eps, Set.of()).port(), 1, Integer::sum);
    }
    assertThat(seen).containsOnlyKeys(1, 2).containsEntry(1, 50).containsEntry(2, 50);
  }

  @Test
  void excludedAndEjectedEndpointsAreSkippedUnlessNothingElseIsLeft() {
    LoadRegistry loads = new LoadRegistry();
    LoadBalancer lb = LoadBalancer.create(LbPolicy.ROUND_ROBIN, loads);
    List<Endpoint> eps = List.of(ep(1), ep(2));
    loads.of(ep(1).address()).connectFailed(TimeUnit.SECONDS.toNanos(30));
    for (int i = 0; i < 10; i++) {
      assertThat(lb.pick(eps, Set.of()).port()).isEqualTo(2);
    }
    assertThat(lb.pick(eps, Set.of(ep(2).address())).port()).as("panic mode").isEqualTo(1);
    assertThat(lb.pick(List.of(ep(1)), Set.of(ep(1).address()))).isNull();
  }

  @Test
  void leastRequestPrefersTheEndpointWithFewerCallsInFlight() {
    LoadRegistry loads = new LoadRegistry();
    LoadBalancer lb = LoadBalancer.create(LbPolicy.LEAST_REQUEST, loads);
    List<Endpoint> eps = List.of(ep(1), ep(2));
    for (int i = 0; i < 5; i++) {
      loads.of(ep(1).address()).begin();
    }
    for (int i = 0; i < 50; i++) {
      assertThat(lb.pick(eps, Set.of()).port()).isEqualTo(2);
    }
  }

  @Test
  void peakEwmaAvoidsTheSlowEndpoint() {
    LoadRegistry loads = new LoadRegistry();
    LoadBalancer lb = LoadBalancer.create(LbPolicy.PEAK_EWMA, loads);
    List<Endpoint> eps = List.of(ep(1), ep(2));
    EndpointLoad slow = loads.of(ep(1).address());
    EndpointLoad fast = loads.of(ep(2).address());
    slow.begin();
    slow.end(TimeUnit.MILLISECONDS.toNanos(500));
    fast.begin();
    fast.end(TimeUnit.MILLISECONDS.toNanos(1));
    for (int i = 0; i < 50; i++) {
      assertThat(lb.pick(eps, Set.of()).port()).isEqualTo(2);
    }
  }
}
