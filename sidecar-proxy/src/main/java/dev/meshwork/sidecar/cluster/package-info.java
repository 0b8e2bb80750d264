/**
 * Clusters and endpoints as xDS describes them (immutable records), and the pool of upstream HTTP/2
 * connections per endpoint.
 *
 * <p>Threading: records are immutable. {@link dev.meshwork.sidecar.cluster.UpstreamPool} is
 * confined to one event loop: each downstream event loop owns its own pool (like Envoy's per-worker
 * pools), so a call and its upstream stream run on one thread with no locks.
 */
package dev.meshwork.sidecar.cluster;
