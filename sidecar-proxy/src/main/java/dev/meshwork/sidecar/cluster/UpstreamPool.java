package dev.meshwork.sidecar.cluster;

import dev.meshwork.sidecar.config.ProxyLimits;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Multiplexed HTTP/2 connections to endpoints, owned by one event loop. A call gets a new stream on
 * an existing connection with room (per the server's SETTINGS_MAX_CONCURRENT_STREAMS); a new
 * connection is opened only when none has room. Connections in GOAWAY are left to drain.
 *
 * <p>A connection's pipeline: {@code [tls] -> flush consolidation -> Http2FrameCodec ->} {@link
 * UpstreamStreams} (frames and events to the {@link UpstreamStream} owning each stream) ->
 * connection events (SETTINGS_MAX_CONCURRENT_STREAMS, GOAWAY, the 16 MiB connection window).
 *
 * <p>Threading: every method must be called on {@link #loop()}.
 */
public final class UpstreamPool {
  private static final Logger log = LoggerFactory.getLogger(UpstreamPool.class);
  private static final int CONNECTION_WINDOW = 16 * 1024 * 1024;

  private final EventLoop loop;
  private final Class<? extends Channel> channelClass;
  private final ProxyLimits limits;
  private final Map<String, List<UpstreamConnection>> ready = new HashMap<>();
  private final Map<String, Promise<UpstreamConnection>> connecting = new HashMap<>();

  public UpstreamPool(EventLoop loop, Class<? extends Channel> channelClass, ProxyLimits limits) {
    this.loop = loop;
    this.channelClass = channelClass;
    this.limits = limits;
  }

  public EventLoop loop() {
    return loop;
  }

  /**
   * A connection to {@code endpoint} with room for one more stream, connecting if needed.
   *
   * @param ssl client TLS context for this cluster, or null for plaintext (h2c prior knowledge)
   */
  public Future<UpstreamConnection> acquire(
      Endpoint endpoint, int connectTimeoutMillis, Supplier<SslContext> ssl) {
    assert loop.inEventLoop();
    String key = endpoint.address();
    List<UpstreamConnection> list = ready.get(key);
    if (list != null) {
      for (UpstreamConnection c : list) {
        if (c.usable()) {
          return loop.newSucceededFuture(c);
        }
      }
    }
    Promise<UpstreamConnection> pending = connecting.get(key);
    if (pending != null) {
      return pending;
    }
    Promise<UpstreamConnection> p = loop.newPromise();
    connecting.put(key, p);
    connect(endpoint, connectTimeoutMillis, ssl == null ? null : ssl.get(), p);
    return p;
  }

  /**
   * A new stream on {@code conn} owned by {@code owner}, or null when the connection closed
   * meanwhile. The pool counts it against the connection's limit until it closes (see {@link
   * UpstreamStream}); the stream is created on the server by its first HEADERS.
   */
  public UpstreamStream openStream(UpstreamConnection conn, UpstreamStream.Listener owner) {
    assert loop.inEventLoop();
    if (!conn.channel().isActive()) {
      return null;
    }
    conn.streamOpened();
    return conn.dispatcher().open(conn, owner);
  }

  /** Connections per endpoint address with their open streams, for the admin page. */
  public Map<String, Integer> streamsByAddress() {
    Map<String, Integer> out = new HashMap<>();
    ready.forEach((k, v) -> out.put(k, v.stream().mapToInt(UpstreamConnection::streams).sum()));
    return out;
  }

  private void connect(
      Endpoint ep, int connectTimeoutMillis, SslContext ssl, Promise<UpstreamConnection> p) {
    String key = ep.address();
    Http2FrameCodec codec =
        Http2FrameCodecBuilder.forClient()
            .initialSettings(
                Http2Settings.defaultSettings()
                    .initialWindowSize(limits.initialWindowSize())
                    .maxHeaderListSize(limits.maxHeaderListSize())
                    .pushEnabled(false))
            .validateHeaders(true)
            .build();
    UpstreamConnection[] holder = new UpstreamConnection[1];
    UpstreamStreams streams = new UpstreamStreams(codec);
    Bootstrap b =
        new Bootstrap()
            .group(loop)
            .channel(channelClass)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
            .handler(
                new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (ssl != null) {
                      ch.pipeline().addLast(ssl.newHandler(ch.alloc(), ep.host(), ep.port()));
                    }
                    ch.pipeline()
                        // One flush per event-loop turn, not one per frame (see Http2Frontend).
                        .addLast(new FlushConsolidationHandler(256, true))
                        .addLast(codec)
                        .addLast(streams)
                        .addLast(new ConnectionEvents(() -> holder[0]));
                  }
                });
    ChannelFuture cf = b.connect(new InetSocketAddress(ep.host(), ep.port()));
    cf.addListener(
        (ChannelFuture f) -> {
          connecting.remove(key);
          if (!f.isSuccess()) {
            p.tryFailure(f.cause());
            return;
          }
          UpstreamConnection c = new UpstreamConnection(f.channel(), codec, streams, key);
          holder[0] = c;
          ready.computeIfAbsent(key, k -> new ArrayList<>()).add(c);
          f.channel()
              .closeFuture()
              .addListener(
                  x -> {
                    List<UpstreamConnection> l = ready.get(key);
                    if (l != null) {
                      l.remove(c);
                      if (l.isEmpty()) {
                        ready.remove(key);
                      }
                    }
                  });
          log.debug("upstream.connected address={}", key);
          p.trySuccess(c);
        });
  }

  /** Tracks the server's SETTINGS and GOAWAY on the connection. */
  private static final class ConnectionEvents extends ChannelInboundHandlerAdapter {
    private final Supplier<UpstreamConnection> conn;

    ConnectionEvents(Supplier<UpstreamConnection> conn) {
      this.conn = conn;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      // Widen the connection window past one stream's, so one slow call cannot stall the others.
      ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - 65_535));
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      UpstreamConnection c = conn.get();
      try {
        if (c != null
            && msg instanceof Http2SettingsFrame s
            && s.settings().maxConcurrentStreams() != null) {
          c.maxStreams(s.settings().maxConcurrentStreams());
        } else if (c != null && msg instanceof Http2GoAwayFrame g) {
          log.debug(
              "upstream.goaway address={} lastStreamId={} code={}",
              c.address(),
              g.lastStreamId(),
              g.errorCode());
          c.goAway(g.lastStreamId());
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // An HTTP/2 protocol error of the server (a push despite SETTINGS_ENABLE_PUSH=0, a bad frame)
      // is answered by the codec itself: GOAWAY with the error's code, then close. Closing here
      // first would tell the server GOAWAY(NO_ERROR). Anything else (a read failed, TLS) ends the
      // connection here.
      boolean protocol = Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null;
      log.debug("upstream.connection.error protocol={} cause={}", protocol, cause.toString());
      if (!protocol) {
        ctx.close();
      }
    }
  }
}
