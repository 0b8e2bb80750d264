/**
 * Per-call load balancing: round robin, least request (power of two choices) and peak EWMA, over
 * the healthy, non-ejected endpoints of a cluster, using live per-endpoint load.
 *
 * <p>Threading: thread-safe. Balancers and {@link dev.meshwork.sidecar.lb.EndpointLoad} use only
 * atomics, because calls from every event loop pick from and report to the same endpoints.
 */
package dev.meshwork.sidecar.lb;
