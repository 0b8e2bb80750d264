/**
 * The sidecar's runtime configuration: one immutable {@link
 * dev.meshwork.sidecar.config.SidecarSnapshot} (listeners, routes, clusters, endpoints, inbound
 * policy) swapped whole through {@link dev.meshwork.sidecar.config.SnapshotHolder}, plus static
 * limits from flags.
 *
 * <p>Threading: everything is immutable except the holder, which is an atomic reference. A stream
 * reads the snapshot once, when its headers arrive, and keeps it to the end, so a config push never
 * changes a call in flight.
 */
package dev.meshwork.sidecar.config;
