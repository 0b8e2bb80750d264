package dev.meshwork.sidecar.telemetry;

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
 * of 15020/metrics ({@link #scrape}) and, when an OTLP endpoint is configured, pushed there too.
 * Owns {@link CallMetrics} and {@link TcpMetrics}.
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

  /**
   * @param workload this sidecar's workload, namespace and pod, set as resource attributes
   * @param otlpEndpoint e.g. {@code http://collector:4317}; empty = Prometheus only
   */
  public SidecarTelemetry(WorkloadInfo workload, Optional<String> otlpEndpoint, int labelLimit) {
    Resource resource =
        Resource.getDefault()
            .merge(
                Resource.create(
                    Attributes.of(
                        AttributeKey.stringKey("service.name"), "meshwork-sidecar",
                        AttributeKey.stringKey("k8s.namespace.name"), workload.namespace(),
                        AttributeKey.stringKey("k8s.pod.name"), workload.pod(),
                        AttributeKey.stringKey("meshwork.workload"), workload.workload())));
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

  @Override
  public void close() {
    meterProvider.shutdown().join(5, TimeUnit.SECONDS);
  }
}
