package dev.meshwork.meshctl.demo;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * The result of a demo run, printed by {@code meshctl demo -o json}. The field names are a contract
 * that scripts rely on (issue 10): {@code calls}, {@code errors}, {@code backends}, {@code split},
 * {@code hops}, {@code mtlsHops}, {@code identities}, {@code latencyMs}, {@code liveEdit}. Add
 * fields; never rename or remove one.
 *
 * @param backends backend instance name to calls it served
 * @param split version to its share of the run's calls (0..1)
 * @param hops sidecar-to-sidecar hops seen (one per answered call)
 * @param mtlsHops of those, hops with mutual TLS and verified SPIFFE identities on both ends
 * @param identities the SPIFFE IDs seen on the hops
 * @param hopsByPath {@code client-id -> server-id} to calls
 */
@JsonPropertyOrder({
  "calls",
  "errors",
  "backends",
  "split",
  "hops",
  "mtlsHops",
  "identities",
  "latencyMs",
  "liveEdit",
  "durationSeconds",
  "errorCodes",
  "hopsByPath",
  "configDir",
  "adminUrls"
})
record DemoSummary(
    long calls,
    long errors,
    Map<String, Long> backends,
    Map<String, Double> split,
    long hops,
    long mtlsHops,
    List<String> identities,
    Latency latencyMs,
    LiveEdit liveEdit,
    double durationSeconds,
    Map<String, Long> errorCodes,
    Map<String, Long> hopsByPath,
    String configDir,
    Map<String, String> adminUrls) {

  record Latency(double p50, double p99) {}

  /**
   * @param applied the new routing was observed taking effect
   * @param seconds from writing the edit to observing the new split; null when not applied
   * @param description what was changed
   * @param error why the edit was not applied, when it was not
   */
  record LiveEdit(boolean applied, Double seconds, String description, String error) {
    static LiveEdit notAttempted() {
      return new LiveEdit(
          false, null, "no live edit (runs without --duration edit only by hand)", null);
    }
  }

  static DemoSummary of(
      TrafficStats.Snapshot s,
      LiveEdit edit,
      double durationSeconds,
      String configDir,
      Map<String, String> adminUrls) {
    return new DemoSummary(
        s.calls(),
        s.errors(),
        s.instances(),
        s.split(),
        s.hopCount(),
        s.mtlsHops(),
        s.identities(),
        new Latency(round(s.p50Ms()), round(s.p99Ms())),
        edit,
        round(durationSeconds),
        s.errorCodes(),
        s.hops(),
        configDir,
        adminUrls);
  }

  private static double round(double v) {
    return Math.round(v * 1000.0) / 1000.0;
  }
}
