package dev.meshwork.sidecar.tracing;

import io.netty.handler.codec.http2.Http2Headers;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Spans of calls through the sidecar (OpenTelemetry SDK, exported over OTLP/gRPC) and their
 * propagation in request headers: W3C {@code traceparent} is read and written; B3 ({@code b3} or
 * {@code x-b3-*}) is accepted on input, W3C wins when both are present. Without an OTLP endpoint no
 * span is recorded, and the caller's trace context passes through unchanged.
 *
 * <p>Sampling is parent-based: a caller's sampling decision is kept; a new trace is sampled with
 * the configured ratio.
 *
 * <p>Thread-safe.
 */
public final class CallTracing implements AutoCloseable {
  /** Default share of new traces that are recorded. */
  public static final double DEFAULT_SAMPLING = 0.01;

  // B3 first, W3C last: each extractor overrides what the previous one found, so W3C wins.
  private static final TextMapPropagator EXTRACT =
      TextMapPropagator.composite(
          B3Propagator.injectingSingleHeader(), W3CTraceContextPropagator.getInstance());
  private static final TextMapPropagator INJECT = W3CTraceContextPropagator.getInstance();

  private final SdkTracerProvider provider;
  private final Tracer tracer;

  private CallTracing(SdkTracerProvider provider, TracerProvider api) {
    this.provider = provider;
    this.tracer = api.get("dev.meshwork.sidecar");
  }

  /** Records no span: trace context in requests passes through unchanged. */
  public static CallTracing disabled() {
    return new CallTracing(null, TracerProvider.noop());
  }

  /**
   * Records spans and exports them to {@code otlpEndpoint} (e.g. {@code http://collector:4317}).
   *
   * @param sampling share of new traces recorded, 0 to 1
   */
  public static CallTracing exporting(Resource resource, String otlpEndpoint, double sampling) {
    if (!(sampling >= 0 && sampling <= 1)) {
      throw new IllegalArgumentException("trace sampling must be 0 to 1, got " + sampling);
    }
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(resource)
            .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(sampling)))
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpGrpcSpanExporter.builder().setEndpoint(otlpEndpoint).build())
                    .build())
            .build();
    return new CallTracing(provider, provider);
  }

  public boolean recording() {
    return provider != null;
  }

  /**
   * Starts a call's span, a child of the trace context in {@code request} (if any).
   *
   * @param kind {@code CLIENT} on outbound, {@code SERVER} on inbound
   */
  public Span start(String name, SpanKind kind, Http2Headers request) {
    Context parent = EXTRACT.extract(Context.root(), request, HeadersGetter.INSTANCE);
    return tracer.spanBuilder(name).setParent(parent).setSpanKind(kind).startSpan();
  }

  /**
   * Writes {@code span}'s context as {@code traceparent} into {@code upstream}, replacing any the
   * caller sent; B3 headers are left as they are for callees that read only B3.
   */
  public void inject(Span span, Http2Headers upstream) {
    if (span.getSpanContext().isValid()) {
      INJECT.inject(Context.root().with(span), upstream, HeadersSetter.INSTANCE);
    }
  }

  /** Exports spans still buffered, waiting at most 5 s. */
  @Override
  public void close() {
    if (provider != null) {
      provider.shutdown().join(5, TimeUnit.SECONDS);
    }
  }

  private enum HeadersGetter implements TextMapGetter<Http2Headers> {
    INSTANCE;

    @Override
    public Iterable<String> keys(Http2Headers carrier) {
      List<String> keys = new ArrayList<>(carrier.size());
      for (Map.Entry<CharSequence, CharSequence> e : carrier) {
        keys.add(e.getKey().toString());
      }
      return keys;
    }

    @Override
    public String get(Http2Headers carrier, String key) {
      CharSequence v = carrier == null ? null : carrier.get(key);
      return v == null ? null : v.toString();
    }
  }

  private enum HeadersSetter implements TextMapSetter<Http2Headers> {
    INSTANCE;

    @Override
    public void set(Http2Headers carrier, String key, String value) {
      if (carrier != null) {
        carrier.set(key, value);
      }
    }
  }
}
