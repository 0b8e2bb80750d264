package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.config.SidecarSnapshot;
import dev.meshwork.sidecar.error.ProxyException;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2Headers;

/** Decides a call's {@link CallTarget}. Called once per stream on its event loop; thread-safe. */
public interface CallRouter {
  /**
   * @param connection the downstream connection (its local address and original destination)
   * @throws ProxyException when the call cannot be routed; the caller answers with its gRPC status
   */
  CallTarget route(SidecarSnapshot snapshot, Http2Headers headers, Channel connection)
      throws ProxyException;
}
