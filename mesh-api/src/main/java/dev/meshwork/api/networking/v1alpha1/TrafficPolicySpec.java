package dev.meshwork.api.networking.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Durations are Gateway API style strings ({@code 500ms}, {@code 5s}, {@code 1m}).
 *
 * @param targetRefs the Services ({@code kind: Service}) or routes ({@code kind: GRPCRoute}) it
 *     attaches to
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrafficPolicySpec(
    List<TargetRef> targetRefs,
    LoadBalancer loadBalancer,
    Timeouts timeouts,
    Retries retries,
    OutlierDetection outlierDetection,
    ConnectionLimits connectionLimits) {
  public TrafficPolicySpec {
    targetRefs = targetRefs == null ? List.of() : List.copyOf(targetRefs);
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TargetRef(String group, String kind, String name) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record LoadBalancer(Algorithm algorithm) {}

  public enum Algorithm {
    ROUND_ROBIN,
    LEAST_REQUEST,
    PEAK_EWMA
  }

  /**
   * @param request whole call, all retries included
   * @param idle a connection with no streams is closed after this
   * @param connect TCP + TLS handshake to an endpoint
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Timeouts(String request, String idle, String connect) {}

  /**
   * @param attempts retries after the first try
   * @param retryOn gRPC status names (e.g. {@code unavailable}) that trigger a retry
   * @param budget caps retries as a share of live traffic so a retry storm cannot start
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Retries(
      Integer attempts, String perTryTimeout, List<String> retryOn, Budget budget) {
    public Retries {
      retryOn = retryOn == null ? List.of() : List.copyOf(retryOn);
    }
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Budget(Integer percent, Integer minRetriesPerSecond) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record OutlierDetection(
      Integer consecutiveErrors,
      String interval,
      String baseEjectionTime,
      Integer maxEjectionPercent) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ConnectionLimits(
      Integer maxConnections, Integer maxPendingRequests, Integer maxRequestsPerConnection) {}
}
