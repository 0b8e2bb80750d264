/**
 * Serving xDS: java-control-plane's {@code V3DiscoveryServer} over a {@code SimpleCache} grouped by
 * {@code node.id} ({@link dev.meshwork.controlplane.xds.XdsServer}); {@link
 * dev.meshwork.controlplane.xds.SnapshotPublisher}, the only caller of {@code setSnapshot}; and
 * {@link dev.meshwork.controlplane.xds.ProxyRegistry}, the discovery callbacks that track connected
 * proxies, their ACKed and NACKed versions, and count NACKs.
 *
 * <p>Threading: callbacks run on gRPC's stream threads and only touch concurrent maps; the
 * publisher does all translation and {@code setSnapshot} calls on its own single thread.
 */
package dev.meshwork.controlplane.xds;
