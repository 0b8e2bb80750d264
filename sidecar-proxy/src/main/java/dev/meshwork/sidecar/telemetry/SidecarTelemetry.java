package dev.meshwork.sidecar.telemetry;

import dev.meshwork.sidecar.accesslog.AccessLog;
import dev.meshwork.sidecar.tracing.CallTracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The sidecar's OpenTelemetry SDK: one meter provider whose metrics are read by Prometheus scrapes
 * of 15020/metrics ({@link #scrape}) and, when an OTLP endpoint is configured, pushed there too;
 * with that endpoint also a tracer provider for the spans of calls. Owns {@link CallMetrics},
 * {@link TcpMetrics}, the {@link CallTracing} and the {@link AccessLog}; {@link #observer} hands
 * each listener its hook.
 *
 * <p>Thread-safe. Create once at start-up; {@link #close()} flushes the OTLP exporter.
 */
public final class SidecarTelemetry implements AutoCloseable {
  /** Most distinct values per label; past it new values count as {@code other}. */
  public static final int DEFAULT_LABEL_LIMIT = 200;

  public static final String PROMETHEUS_CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private final SdkMeterProvider meterProvider;
  private final PrometheusMetricReader prometheus;
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final CallMetrics calls;
  private final TcpMetrics tcp;
  private final CallTracing tracing;
  private final AccessLog accessLog;
  private final WorkloadInfo workload;
  private final boolean enabled;

  /**
   * Metrics only (no spans, no access log).
   *
   * @param workload this sidecar's workload, namespace and pod, set as resource attributes
   * @param otlpEndpoint e.g. {@code http://collector:4317}; empty = Prometheus only
   */
  public SidecarTelemetry(WorkloadInfo workload, Optional<String> otlpEndpoint, int labelLimit) {
    this(
        workload,
        new TelemetrySettings(true, otlpEndpoint, 0, false, labelLimit),
        /* tracing= */ false);
  }

  /** Everything {@code settings} asks for: metrics, spans when an endpoint is set, access log. */
  public SidecarTelemetry(WorkloadInfo workload, TelemetrySettings settings) {
    this(workload, settings, /* tracing= */ true);
  }

  private SidecarTelemetry(WorkloadInfo workload, TelemetrySettings settings, boolean tracing) {
    this.workload = workload;
    this.enabled = settings.enabled();
    Optional<String> otlpEndpoint = settings.otlpEndpoint();
    int labelLimit = settings.labelLimit();
    Resource resource =
        Resource.getDefault()
            .merge(
                Resource.create(
                    Attributes.of(
                        AttributeKey.stringKey("service.name"),
                        workload.workload() + "." + workload.namespace(),
                        AttributeKey.stringKey("k8s.namespace.name"),
                        workload.namespace(),
                        AttributeKey.stringKey("k8s.pod.name"),
                        workload.pod(),
                        AttributeKey.stringKey("meshwork.workload"),
                        workload.workload())));
    // No target_info / scope labels: they repeat on every series and dashboards do not use them.
    prometheus =
        PrometheusMetricReader.builder()
            .setOtelScopeLabelsEnabled(false)
            .setTargetInfoMetricEnabled(false)
            .build();
    SdkMeterProviderBuilder builder =
        SdkMeterProvider.builder().setResource(resource).registerMetricReader(prometheus);
    otlpEndpoint
        .filter(e -> !e.isBlank())
        .ifPresent(
            endpoint ->
                builder.registerMetricReader(
                    PeriodicMetricReader.builder(
                            OtlpGrpcMetricExporter.builder().setEndpoint(endpoint).build())
                        .setInterval(Duration.ofSeconds(15))
                        .build()));
    meterProvider = builder.build();
    Meter meter = meterProvider.get("dev.meshwork.sidecar");
    calls = new CallMetrics(meter, labelLimit);
    tcp = new TcpMetrics(meter, labelLimit);
    this.tracing =
        tracing && enabled && otlpEndpoint.isPresent()
            ? CallTracing.exporting(resource, otlpEndpoint.get(), settings.traceSampling())
            : CallTracing.disabled();
    this.accessLog = new AccessLog(enabled && settings.accessLog());
  }

  /**
   * The hook for a listener of {@code direction}; {@link TrafficObserver#NONE} when telemetry is
   * turned off.
   */
  public TrafficObserver observer(SidecarObserver.Direction direction) {
    if (!enabled) {
      return TrafficObserver.NONE;
    }
    return new SidecarObserver(direction, workload, calls, tcp, tracing, accessLog);
  }

  /** Who this sidecar runs beside; the resource of every metric. */
  public record WorkloadInfo(String namespace, String pod, String workload) {}

  public CallMetrics calls() {
    return calls;
  }

  public TcpMetrics tcp() {
    return tcp;
  }

  /** Writes every metric in Prometheus text format (the body of GET /metrics). */
  public void scrape(OutputStream out) throws IOException {
    writer.write(out, prometheus.collect(), EscapingScheme.UNDERSCORE_ESCAPING);
  }

  /** Flushes spans and pushed metrics still buffered. */
  @Override
  public void close() {
    tracing.close();
    meterProvider.shutdown().join(5, TimeUnit.SECONDS);
  }
}
