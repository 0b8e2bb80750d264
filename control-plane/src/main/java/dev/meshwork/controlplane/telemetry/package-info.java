/**
 * The control plane's metrics (OpenTelemetry SDK, Prometheus text on 15014/metrics, OTLP when
 * configured): connected proxies, pushes and push time, NACKs, model builds and build time, CA
 * certificates issued and refused, webhook requests and latency.
 *
 * <p>Threading: thread-safe; counts are read on the scraping thread, events recorded on the CA's
 * and webhook's request threads.
 */
package dev.meshwork.controlplane.telemetry;
