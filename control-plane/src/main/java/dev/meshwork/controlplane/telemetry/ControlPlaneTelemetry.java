package dev.meshwork.controlplane.telemetry;

import com.sun.net.httpserver.HttpExchange;
import dev.meshwork.api.SpiffeId;
import dev.meshwork.ca.grpc.CaMetrics;
import dev.meshwork.controlplane.ControlPlane;
import dev.meshwork.injector.admission.ReviewListener;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.grpc.Status;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleGauge;
import io.opentelemetry.api.metrics.ObservableLongCounter;
import io.opentelemetry.api.metrics.ObservableLongGauge;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The control plane's metrics on the OpenTelemetry SDK, served in Prometheus text on {@code
 * 15014/metrics} and pushed over OTLP when an endpoint is configured ({@code
 * OTEL_EXPORTER_OTLP_ENDPOINT}). Names and labels are documented in docs/metrics.md; the
 * control-plane dashboard depends on them.
 *
 * <p>Counts the xDS server, publisher and model keep themselves (connected proxies, pushes, NACKs,
 * model builds) are read when Prometheus scrapes; the CA and the webhook report each event through
 * {@link #caMetrics()} and {@link #webhookListener()}.
 *
 * <p>Thread-safe. Create once at start-up, before the CA and the webhook; {@link #observe} once the
 * control plane runs.
 */
public final class ControlPlaneTelemetry implements AutoCloseable {
  static final AttributeKey<String> CODE = AttributeKey.stringKey("code");
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("operation");
  static final AttributeKey<String> ALLOWED = AttributeKey.stringKey("allowed");
  static final AttributeKey<String> MUTATED = AttributeKey.stringKey("mutated");
  static final List<Double> WEBHOOK_BUCKETS_MS =
      List.of(0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0);

  private final SdkMeterProvider meterProvider;
  private final PrometheusMetricReader prometheus;
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final Meter meter;
  private final LongCounter issued;
  private final LongCounter refused;
  private final LongCounter webhookRequests;
  private final DoubleHistogram webhookDuration;
  private final List<AutoCloseable> observers = new ArrayList<>();

  /**
   * @param otlpEndpoint e.g. {@code http://collector:4317}; empty = Prometheus only
   */
  public ControlPlaneTelemetry(Optional<String> otlpEndpoint) {
    prometheus =
        PrometheusMetricReader.builder()
            .setOtelScopeLabelsEnabled(false)
            .setTargetInfoMetricEnabled(false)
            .build();
    SdkMeterProviderBuilder builder =
        SdkMeterProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(
                                AttributeKey.stringKey("service.name"), "meshwork-control-plane"))))
            .registerMetricReader(prometheus);
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
    meter = meterProvider.get("dev.meshwork.controlplane");
    issued =
        meter
            .counterBuilder("meshwork.ca.certificates.issued")
            .setDescription("Workload certificates the CA signed")
            .setUnit("{certificate}")
            .build();
    refused =
        meter
            .counterBuilder("meshwork.ca.certificates.refused")
            .setDescription("Certificate requests the CA refused, by gRPC status code")
            .setUnit("{request}")
            .build();
    webhookRequests =
        meter
            .counterBuilder("meshwork.webhook.requests")
            .setDescription("AdmissionReviews the sidecar injector answered")
            .setUnit("{request}")
            .build();
    webhookDuration =
        meter
            .histogramBuilder("meshwork.webhook.request.duration")
            .setDescription("Time to answer an AdmissionReview (decode, inject, encode)")
            .setUnit("ms")
            .setExplicitBucketBoundariesAdvice(WEBHOOK_BUCKETS_MS)
            .build();
  }

  /** OTLP endpoint from {@code OTEL_EXPORTER_OTLP_ENDPOINT}, as the sidecar reads it. */
  public static ControlPlaneTelemetry fromEnvironment() {
    return new ControlPlaneTelemetry(
        Optional.ofNullable(System.getenv("OTEL_EXPORTER_OTLP_ENDPOINT")));
  }

  /** The CA's hook: certificates issued and refused. */
  public CaMetrics caMetrics() {
    return new CaMetrics() {
      @Override
      public void issued(SpiffeId identity) {
        issued.add(1);
      }

      @Override
      public void refused(Status.Code code, SpiffeId identity) {
        refused.add(1, Attributes.of(CODE, code.name()));
      }
    };
  }

  /** The webhook's hook: every answered AdmissionReview and how long it took. */
  public ReviewListener webhookListener() {
    return new ReviewListener() {
      @Override
      public void reviewed(AdmissionRequest request, AdmissionResponse response) {
        reviewed(request, response, null);
      }

      @Override
      public void reviewed(AdmissionRequest request, AdmissionResponse response, Duration took) {
        boolean allowed = response != null && Boolean.TRUE.equals(response.getAllowed());
        boolean mutated = response != null && response.getPatch() != null;
        String op =
            request == null || request.getOperation() == null ? "unknown" : request.getOperation();
        Attributes a =
            Attributes.of(
                OPERATION,
                op,
                ALLOWED,
                Boolean.toString(allowed),
                MUTATED,
                Boolean.toString(mutated));
        webhookRequests.add(1, a);
        if (took != null) {
          webhookDuration.record(took.toNanos() / 1e6, a);
        }
      }
    };
  }

  /**
   * Reads the running control plane's own counts at each scrape and serves {@code /metrics} on its
   * debug HTTP server.
   */
  public void observe(ControlPlane cp) {
    ObservableLongGauge connected =
        meter
            .gaugeBuilder("meshwork.controlplane.proxies.connected")
            .ofLongs()
            .setDescription("Proxies with an open ADS stream")
            .setUnit("{proxy}")
            .buildWithCallback(m -> m.record(cp.registry().connected().size()));
    ObservableLongCounter pushes =
        meter
            .counterBuilder("meshwork.controlplane.pushes")
            .setDescription("xDS snapshots set for proxies (one per proxy whose config changed)")
            .setUnit("{push}")
            .buildWithCallback(m -> m.record(cp.publisher().pushCount()));
    ObservableDoubleGauge pushDuration =
        meter
            .gaugeBuilder("meshwork.controlplane.push.duration")
            .setDescription("How long the last full push took: translate and set for every proxy")
            .setUnit("ms")
            .buildWithCallback(m -> m.record(cp.publisher().lastPushDuration().toNanos() / 1e6));
    ObservableLongCounter nacks =
        meter
            .counterBuilder("meshwork.controlplane.nacks")
            .setDescription("xDS responses proxies rejected (NACK)")
            .setUnit("{nack}")
            .buildWithCallback(m -> m.record(cp.registry().totalNacks()));
    ObservableLongCounter builds =
        meter
            .counterBuilder("meshwork.controlplane.config.builds")
            .setDescription("Mesh models built from the watched configuration")
            .setUnit("{build}")
            .buildWithCallback(m -> m.record(cp.modelBuildCount()));
    ObservableDoubleGauge buildDuration =
        meter
            .gaugeBuilder("meshwork.controlplane.config.build.duration")
            .setDescription("How long building the last mesh model from the configuration took")
            .setUnit("ms")
            .buildWithCallback(m -> m.record(cp.lastModelBuildDuration().toNanos() / 1e6));
    observers.addAll(List.of(connected, pushes, pushDuration, nacks, builds, buildDuration));
    cp.http().addHandler("/metrics", this::serve);
  }

  private void serve(HttpExchange ex) throws IOException {
    try (ex) {
      ByteArrayOutputStream body = new ByteArrayOutputStream(8192);
      scrape(body);
      ex.getResponseHeaders().set("Content-Type", PrometheusTextFormatWriter.CONTENT_TYPE);
      ex.sendResponseHeaders(200, body.size());
      ex.getResponseBody().write(body.toByteArray());
    }
  }

  /** Writes every metric in Prometheus text format. */
  public void scrape(OutputStream out) throws IOException {
    writer.write(out, prometheus.collect(), EscapingScheme.UNDERSCORE_ESCAPING);
  }

  @Override
  public void close() {
    for (AutoCloseable o : observers) {
      try {
        o.close();
      } catch (Exception e) {
        // closing a callback cannot fail in a way worth reporting at shutdown
      }
    }
    meterProvider.shutdown().join(5, TimeUnit.SECONDS);
  }
}
