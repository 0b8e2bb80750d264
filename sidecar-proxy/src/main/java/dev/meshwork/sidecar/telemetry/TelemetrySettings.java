package dev.meshwork.sidecar.telemetry;

import dev.meshwork.sidecar.tracing.CallTracing;
import java.util.Locale;
import java.util.Optional;

/**
 * What the sidecar measures and where it sends it (flags of {@code sidecar run}).
 *
 * @param enabled false turns every per-call hook off ({@code --telemetry false}): no metrics, spans
 *     or access log; for measuring the telemetry's own cost
 * @param otlpEndpoint OTLP/gRPC endpoint for metrics and spans ({@code --otlp-endpoint}, else
 *     {@code OTEL_EXPORTER_OTLP_ENDPOINT}); empty: metrics on /metrics only and no spans recorded
 * @param traceSampling share of new traces recorded, 0 to 1 ({@code --trace-sampling}, default
 *     0.01); a caller's sampling decision is always kept
 * @param accessLog one JSON line per call on standard output ({@code --access-log}, else {@code
 *     MESHWORK_ACCESS_LOG}; the injector sets it from {@code meshwork.dev/access-log: "true"})
 * @param labelLimit most distinct values per label before new ones count as {@code other}
 */
public record TelemetrySettings(
    boolean enabled,
    Optional<String> otlpEndpoint,
    double traceSampling,
    boolean accessLog,
    int labelLimit) {

  public static final TelemetrySettings DEFAULTS =
      new TelemetrySettings(
          true,
          Optional.empty(),
          CallTracing.DEFAULT_SAMPLING,
          false,
          SidecarTelemetry.DEFAULT_LABEL_LIMIT);

  public TelemetrySettings {
    otlpEndpoint = otlpEndpoint.filter(e -> !e.isBlank());
    if (!(traceSampling >= 0 && traceSampling <= 1)) {
      throw new IllegalArgumentException(
          "--trace-sampling wants a share from 0 to 1 (0.01 = 1%), got " + traceSampling);
    }
    if (labelLimit < 1) {
      throw new IllegalArgumentException("label limit must be at least 1, got " + labelLimit);
    }
  }

  /**
   * From flag (or environment) text; null means not given.
   *
   * @throws IllegalArgumentException naming the flag, for a value that is not understood
   */
  public static TelemetrySettings parse(
      String enabled, String otlpEndpoint, String traceSampling, String accessLog) {
    double sampling;
    try {
      sampling =
          traceSampling == null
              ? DEFAULTS.traceSampling()
              : Double.parseDouble(traceSampling.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--trace-sampling wants a share from 0 to 1 (0.01 = 1%), got '" + traceSampling + "'");
    }
    return new TelemetrySettings(
        bool("--telemetry", enabled, DEFAULTS.enabled()),
        Optional.ofNullable(otlpEndpoint),
        sampling,
        bool("--access-log", accessLog, DEFAULTS.accessLog()),
        DEFAULTS.labelLimit());
  }

  private static boolean bool(String flag, String value, boolean dflt) {
    if (value == null || value.isBlank()) {
      return dflt;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true", "on", "1" -> true;
      case "false", "off", "0" -> false;
      default ->
          throw new IllegalArgumentException(flag + " wants true or false, got '" + value + "'");
    };
  }
}
