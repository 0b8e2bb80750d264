/**
 * Tracing of calls through the sidecar: one span per call and direction (OpenTelemetry SDK,
 * exported over OTLP), W3C {@code traceparent} propagation with B3 accepted on input, parent-based
 * sampling. {@link dev.meshwork.sidecar.telemetry} starts and ends the spans.
 *
 * <p>Threading: thread-safe; spans are started and ended on event loops, export runs on the SDK's
 * own thread.
 */
package dev.meshwork.sidecar.tracing;
