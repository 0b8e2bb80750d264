/**
 * Clusters and endpoints as xDS describes them (immutable records), and the pool of upstream HTTP/2
 * connections per endpoint. A call's stream on a pooled connection is one {@link
 * dev.meshwork.sidecar.cluster.UpstreamStream} (no channel of its own), fed by the connection's
 * {@code UpstreamStreams} handler.
 *
 * <p>Threading: records are immutable. {@link dev.meshwork.sidecar.cluster.UpstreamPool} is
 * confined to one event loop: each downstream event loop owns its own pool (like Envoy's per-worker
 * pools), so a call and its upstream stream run on one thread with no locks.
 */
package dev.meshwork.sidecar.cluster;
