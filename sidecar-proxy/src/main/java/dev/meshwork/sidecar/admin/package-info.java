/**
 * The admin server on 127.0.0.1:15000 (config dump, clusters with endpoint health and load) and the
 * status server on 15020 (readiness, and metrics when telemetry is plugged in). Small HTTP/1.1
 * servers on Netty.
 *
 * <p>Threading: request handlers run on the server's event loop and only read thread-safe state
 * (the snapshot holder, atomics, the xDS client's state copied on its own executor).
 */
package dev.meshwork.sidecar.admin;
