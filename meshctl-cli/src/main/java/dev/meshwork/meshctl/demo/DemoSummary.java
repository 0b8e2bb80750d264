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
 * @param configProblems edits of the config folder the control plane refused during the run (it
 *     kept the last good config for each)
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
  "adminUrls",
  "warmup",
  "configProblems"
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
    Map<String, String> adminUrls,
    Warmup warmup,
    List<String> configProblems) {

  record Latency(double p50, double p99) {}

  /**
   * The caller's warm-up before the measured run: calls made one at a time until enough succeeded,
   * while nine JVMs start. Not counted in {@code calls} or {@code errors}.
   */
  record Warmup(long calls, long errors, double seconds, boolean succeeded, String lastError) {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
        new com.fasterxml.jackson.databind.ObjectMapper();

    /** The warm-up report in a caller line, if this line is one. */
    static java.util.Optional<Warmup> parse(String line) {
      try {
        var w = JSON.readTree(line).path("warmup");
        if (w.isMissingNode()) {
          return java.util.Optional.empty();
        }
        return java.util.Optional.of(
            new Warmup(
                w.path("calls").asLong(),
                w.path("errors").asLong(),
                Math.round(w.path("seconds").asDouble() * 1000) / 1000.0,
                w.path("succeeded").asBoolean(),
                w.path("lastError").asText("")));
      } catch (Exception notJson) {
        return java.util.Optional.empty();
      }
    }
  }

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
      Map<String, String> adminUrls,
      Warmup warmup,
      List<String> configProblems) {
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
        adminUrls,
        warmup,
        configProblems);
  }

  private static double round(double v) {
    return Math.round(v * 1000.0) / 1000.0;
  }
}
