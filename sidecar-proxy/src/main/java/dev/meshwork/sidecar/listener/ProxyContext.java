package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.cluster.UpstreamPools;
import dev.meshwork.sidecar.config.ProxyLimits;
import dev.meshwork.sidecar.config.SnapshotHolder;
import dev.meshwork.sidecar.lb.LoadRegistry;
import dev.meshwork.sidecar.telemetry.TrafficObserver;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.ssl.SslContext;
import java.util.function.Supplier;

/**
 * What a listener's pipelines share: config, pools, load, limits and TLS. Immutable; the parts it
 * points to are thread-safe.
 *
 * @param clientTls client TLS for mTLS clusters, or null when no certificate is available
 * @param serverTls server TLS for peers dialling us with TLS, or null (TLS connections are closed)
 * @param forwardedClientCert inbound only: the {@code x-forwarded-client-cert} value for a call on
 *     a connection (null when it is not mutual TLS); null on outbound listeners
 * @param enforceInboundPolicy inbound only: refuse plaintext on ports whose PeerAuthentication mode
 *     accepts only mutual TLS (STRICT)
 * @param observer telemetry hook of this listener's calls and passthrough connections
 */
public record ProxyContext(
    SnapshotHolder snapshots,
    CallRouter router,
    UpstreamPools pools,
    LoadRegistry loads,
    ProxyLimits limits,
    Supplier<SslContext> clientTls,
    Supplier<SslContext> serverTls,
    Class<? extends io.netty.channel.Channel> socketChannel,
    java.util.function.Function<io.netty.channel.Channel, String> forwardedClientCert,
    boolean enforceInboundPolicy,
    TrafficObserver observer) {

  /** Without telemetry. */
  public ProxyContext(
      SnapshotHolder snapshots,
      CallRouter router,
      UpstreamPools pools,
      LoadRegistry loads,
      ProxyLimits limits,
      Supplier<SslContext> clientTls,
      Supplier<SslContext> serverTls,
      Class<? extends io.netty.channel.Channel> socketChannel,
      java.util.function.Function<io.netty.channel.Channel, String> forwardedClientCert,
      boolean enforceInboundPolicy) {
    this(
        snapshots,
        router,
        pools,
        loads,
        limits,
        clientTls,
        serverTls,
        socketChannel,
        forwardedClientCert,
        enforceInboundPolicy,
        TrafficObserver.NONE);
  }

  /**
   * A new call for a downstream stream.
   *
   * @param ctx the context of the connection's {@link DownstreamStreams}
   * @param quietVoid the connection's void promise that keeps write failures out of the pipeline
   */
  ProxyCall newCall(ChannelHandlerContext ctx, Http2FrameStream stream, ChannelPromise quietVoid) {
    return new ProxyCall(
        ctx,
        stream,
        quietVoid,
        snapshots,
        router,
        pools,
        loads,
        limits,
        clientTls,
        forwardedClientCert,
        observer);
  }
}
