/**
 * Telemetry of the data path: per-call metrics ({@link dev.meshwork.sidecar.telemetry.CallMetrics})
 * and TCP passthrough metrics on the OpenTelemetry SDK, served in Prometheus text format on the
 * metrics port (15020/metrics) and exported over OTLP when an endpoint is configured. Label values
 * are bounded ({@link dev.meshwork.sidecar.telemetry.LabelBudget}) so an unknown caller cannot blow
 * up the series count.
 *
 * <p>Threading: every class here is thread-safe; recording is called from Netty event loops and
 * must not block (the SDK's instruments are lock-free on the hot path).
 */
package dev.meshwork.sidecar.telemetry;
