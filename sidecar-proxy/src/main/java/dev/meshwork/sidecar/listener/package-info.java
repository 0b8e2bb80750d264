/**
 * Accepting connections and proxying their calls: protocol detection on the first bytes, the
 * downstream HTTP/2 pipeline ({@code Http2FrameCodec} + {@code DownstreamStreams}, which dispatches
 * frames by stream to one plain {@link dev.meshwork.sidecar.listener.ProxyCall} per call: no
 * channel per stream), TCP passthrough, and the original destination of redirected connections.
 *
 * <p>Threading: handlers are confined to their channel's event loop. A call's downstream and
 * upstream streams share one event loop (the upstream pool is per loop), so per-call state needs no
 * locks. Shared state they read (snapshot, load) is immutable or atomic.
 */
package dev.meshwork.sidecar.listener;
