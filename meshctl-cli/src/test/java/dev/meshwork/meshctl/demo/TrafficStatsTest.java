package dev.meshwork.meshctl.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class TrafficStatsTest {
  private static final long SECOND = 1_000_000_000L;

  private static String line(int v1, int v2, int errors, long latencyMicros) {
    StringBuilder lat = new StringBuilder();
    for (int i = 0; i < v1 + v2; i++) {
      lat.append(i == 0 ? "" : ",").append(latencyMicros);
    }
    String id1 = "spiffe://cluster.local/ns/demo/sa/caller";
    String id2 = "spiffe://cluster.local/ns/demo/sa/greeter";
    return """
        {"calls":%d,"errors":%d,"errorCodes":%s,"instances":{"greeter-v1-a":%d,"greeter-v2-a":%d},
         "versions":{"v1":%d,"v2":%d},"hops":{"%s -> %s":%d},"mtlsHops":%d,"latencyMicros":[%s]}
        """
        .formatted(
            v1 + v2 + errors,
            errors,
            errors == 0 ? "{}" : "{\"UNAVAILABLE\":" + errors + "}",
            v1,
            v2,
            v1,
            v2,
            id1,
            id2,
            v1 + v2,
            v1 + v2,
            lat)
        .replace("\n", "");
  }

  @Test
  void totalsSplitIdentitiesAndPercentiles() {
    TrafficStats stats = new TrafficStats(2 * SECOND);
    stats.accept(line(90, 10, 0, 1000), 0);
    stats.accept(line(45, 5, 2, 3000), SECOND / 2);
    assertThat(stats.accept("caller: some log line", SECOND)).isNull();

    TrafficStats.Snapshot s = stats.snapshot();
    assertThat(s.calls()).isEqualTo(152);
    assertThat(s.errors()).isEqualTo(2);
    assertThat(s.errorCodes()).containsEntry("UNAVAILABLE", 2L);
    assertThat(s.instances())
        .containsEntry("greeter-v1-a", 135L)
        .containsEntry("greeter-v2-a", 15L);
    assertThat(s.split().get("v1")).isCloseTo(0.9, within(1e-9));
    assertThat(s.hopCount()).isEqualTo(150);
    assertThat(s.mtlsHops()).isEqualTo(150);
    assertThat(s.identities())
        .containsExactly(
            "spiffe://cluster.local/ns/demo/sa/caller",
            "spiffe://cluster.local/ns/demo/sa/greeter");
    // 100 samples at 1 ms, 50 at 3 ms: the median is 1 ms, the 99th percentile 3 ms.
    assertThat(s.p50Ms()).isEqualTo(1.0);
    assertThat(s.p99Ms()).isEqualTo(3.0);
  }

  @Test
  void recentSplitForgetsIntervalsOutsideTheWindow() {
    TrafficStats stats = new TrafficStats(2 * SECOND);
    stats.accept(line(90, 10, 0, 1000), 0);
    stats.accept(line(50, 50, 0, 1000), 5 * SECOND);
    assertThat(stats.snapshot().recentSplit().get("v2")).isCloseTo(0.5, within(1e-9));
    assertThat(stats.snapshot().split().get("v2")).isCloseTo(0.3, within(1e-9));
  }

  @Test
  void percentileIsNearestRank() {
    long[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assertThat(TrafficStats.percentile(sorted, 0.5)).isEqualTo(5);
    assertThat(TrafficStats.percentile(sorted, 0.99)).isEqualTo(10);
    assertThat(TrafficStats.percentile(new long[0], 0.99)).isZero();
  }
}
