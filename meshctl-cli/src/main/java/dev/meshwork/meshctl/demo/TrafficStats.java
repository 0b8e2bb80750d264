package dev.meshwork.meshctl.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Accumulates the caller's per-interval JSON lines into run totals and a recent window (for rates
 * and the current canary split). Thread-safe: lines arrive on the caller's reader thread, the view
 * reads from the demo thread.
 */
final class TrafficStats {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One interval as the caller reported it, with the time it arrived. */
  record Interval(
      long atNanos,
      long calls,
      long errors,
      Map<String, Long> instances,
      Map<String, Long> versions,
      Map<String, Long> errorCodes,
      Map<String, Long> hops,
      long mtlsHops,
      long[] latencyMicros) {}

  /** What the view shows at one moment. */
  record Snapshot(
      long calls,
      long errors,
      Map<String, Long> instances,
      Map<String, Double> instanceRates,
      Map<String, Double> recentSplit,
      Map<String, Double> split,
      Map<String, Long> errorCodes,
      Map<String, Long> hops,
      long hopCount,
      long mtlsHops,
      List<String> identities,
      double p50Ms,
      double p99Ms,
      double callsPerSecond) {}

  private final long windowNanos;
  private final Deque<Interval> window = new ArrayDeque<>();
  private final Map<String, Long> instances = new TreeMap<>();
  private final Map<String, Long> versions = new TreeMap<>();
  private final Map<String, Long> errorCodes = new TreeMap<>();
  private final Map<String, Long> hops = new TreeMap<>();
  private final List<long[]> latencies = new ArrayList<>();
  private long calls;
  private long errors;
  private long hopCount;
  private long mtlsHops;

  TrafficStats(long windowNanos) {
    this.windowNanos = windowNanos;
  }

  /**
   * Parses one caller line and adds it.
   *
   * @return the interval, or null for a line that is not stats (a log line)
   */
  Interval accept(String line, long nowNanos) {
    JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (Exception notJson) {
      return null;
    }
    if (n == null || !n.has("calls")) {
      return null;
    }
    long[] lat = new long[n.path("latencyMicros").size()];
    for (int i = 0; i < lat.length; i++) {
      lat[i] = n.path("latencyMicros").get(i).asLong();
    }
    Interval interval =
        new Interval(
            nowNanos,
            n.path("calls").asLong(),
            n.path("errors").asLong(),
            counts(n.path("instances")),
            counts(n.path("versions")),
            counts(n.path("errorCodes")),
            counts(n.path("hops")),
            n.path("mtlsHops").asLong(),
            lat);
    add(interval);
    return interval;
  }

  synchronized void add(Interval i) {
    calls += i.calls();
    errors += i.errors();
    i.instances().forEach((k, v) -> instances.merge(k, v, Long::sum));
    i.versions().forEach((k, v) -> versions.merge(k, v, Long::sum));
    i.errorCodes().forEach((k, v) -> errorCodes.merge(k, v, Long::sum));
    i.hops().forEach((k, v) -> hops.merge(k, v, Long::sum));
    hopCount += i.hops().values().stream().mapToLong(Long::longValue).sum();
    mtlsHops += i.mtlsHops();
    latencies.add(i.latencyMicros());
    window.addLast(i);
    while (!window.isEmpty() && i.atNanos() - window.peekFirst().atNanos() > windowNanos) {
      window.removeFirst();
    }
  }

  synchronized Snapshot snapshot() {
    Map<String, Long> recentInstances = new TreeMap<>();
    Map<String, Long> recentVersions = new TreeMap<>();
    long recentCalls = 0;
    for (Interval i : window) {
      i.instances().forEach((k, v) -> recentInstances.merge(k, v, Long::sum));
      i.versions().forEach((k, v) -> recentVersions.merge(k, v, Long::sum));
      recentCalls += i.calls();
    }
    double seconds =
        window.size() < 2
            ? windowNanos / 1e9
            : Math.max(0.5, (window.peekLast().atNanos() - window.peekFirst().atNanos()) / 1e9);
    // The first interval in the window started before it was reported: count its span too.
    double span = window.size() < 2 ? seconds : seconds * window.size() / (window.size() - 1);
    Map<String, Double> rates = new TreeMap<>();
    recentInstances.forEach((k, v) -> rates.put(k, v / span));
    TreeSet<String> ids = new TreeSet<>();
    for (String hop : hops.keySet()) {
      for (String side : hop.split(" -> ")) {
        if (side.startsWith("spiffe://")) {
          ids.add(side);
        }
      }
    }
    long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    return new Snapshot(
        calls,
        errors,
        Map.copyOf(instances),
        rates,
        shares(recentVersions),
        shares(versions),
        Map.copyOf(errorCodes),
        Map.copyOf(hops),
        hopCount,
        mtlsHops,
        List.copyOf(ids),
        percentile(all, 0.50) / 1000.0,
        percentile(all, 0.99) / 1000.0,
        recentCalls / span);
  }

  /** Share of calls per key, summing to 1 (empty when there were no calls). */
  static Map<String, Double> shares(Map<String, Long> counts) {
    long total = counts.values().stream().mapToLong(Long::longValue).sum();
    Map<String, Double> out = new TreeMap<>();
    if (total > 0) {
      counts.forEach((k, v) -> out.put(k, (double) v / total));
    }
    return out;
  }

  /** Nearest-rank percentile of sorted values; 0 when empty. */
  static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }

  private static Map<String, Long> counts(JsonNode node) {
    Map<String, Long> m = new TreeMap<>();
    node.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asLong()));
    return m;
  }
}
