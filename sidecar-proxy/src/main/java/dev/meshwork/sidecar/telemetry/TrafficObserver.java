package dev.meshwork.sidecar.telemetry;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;

/**
 * The data path's one telemetry hook: a listener calls {@link #call} when a gRPC call's request
 * headers arrive and {@link #connection} when it starts passing a connection through as plain TCP.
 * What is measured (metrics, spans, access log lines) is behind it, so the data path knows nothing
 * of OpenTelemetry.
 *
 * <p>Thread-safe; called on event loops, never blocks.
 */
public interface TrafficObserver {
  /** Observes nothing: for listeners built without telemetry (tests, {@code --telemetry off}). */
  TrafficObserver NONE =
      new TrafficObserver() {
        @Override
        public ObservedCall call(Http2Headers request, Channel connection) {
          return ObservedCall.NONE;
        }

        @Override
        public ObservedConnection connection(InetSocketAddress destination) {
          return ObservedConnection.NONE;
        }
      };

  /**
   * A call starts.
   *
   * @param request the downstream request headers as received (not modified here)
   * @param connection the downstream HTTP/2 connection (its TLS session tells the peer identity)
   */
  ObservedCall call(Http2Headers request, Channel connection);

  /** A connection is passed through as TCP to {@code destination} (its original destination). */
  ObservedConnection connection(InetSocketAddress destination);
}
