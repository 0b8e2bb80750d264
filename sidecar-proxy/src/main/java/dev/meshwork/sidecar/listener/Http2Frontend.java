package dev.meshwork.sidecar.listener;

import dev.meshwork.sidecar.config.ProxyLimits;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the downstream HTTP/2 server pipeline:
 *
 * <pre>
 *   [tls] -> idle -> idle-close -> flush -> h2 codec (Http2FrameCodec) -> h2 streams -> errors
 *                                                                  (DownstreamStreams)
 *                                                                   └ per stream: ProxyCall
 * </pre>
 *
 * No channel per stream: {@link DownstreamStreams} dispatches the codec's frames by stream to one
 * plain {@link ProxyCall} object per call, which writes its frames back on this connection with the
 * stream set, and returns the caller's stream window only as it forwards the DATA (see {@link
 * ProxyCall}).
 *
 * <p>The codec enforces the limits (max concurrent streams, header list size) with the protocol's
 * own errors: RST_STREAM or GOAWAY, and 431 for oversized request headers.
 */
public final class Http2Frontend {
  private static final Logger log = LoggerFactory.getLogger(Http2Frontend.class);
  public static final String IDLE = "idle";
  public static final String IDLE_CLOSE = "idle-close";
  public static final String CODEC = "h2-codec";
  public static final String FLUSH = "flush";

  static final int MAX_RST_FRAMES_PER_WINDOW = 20_000;
  static final int RST_WINDOW_SECONDS = 10;
  public static final String STREAMS = "h2-streams";
  public static final String CONNECTION_ERRORS = "connection-errors";

  /**
   * The connection-level window: larger than one stream's, so one stalled call cannot block others.
   */
  static final int CONNECTION_WINDOW = 16 * 1024 * 1024;

  private Http2Frontend() {}

  public static void configure(ChannelPipeline p, ProxyContext ctx) {
    ProxyLimits limits = ctx.limits();
    Http2FrameCodec codec =
        Http2FrameCodecBuilder.forServer()
            .initialSettings(
                Http2Settings.defaultSettings()
                    .maxConcurrentStreams(limits.maxConcurrentStreams())
                    .maxHeaderListSize(limits.maxHeaderListSize())
                    .initialWindowSize(limits.initialWindowSize()))
            .gracefulShutdownTimeoutMillis(limits.drainTimeout().toMillis())
            .validateHeaders(true)
            // Netty's rapid-reset guard (200 RST_STREAM per 30 s) closes the whole connection, and
            // with it every call, when an app merely cancels calls on deadlines at a few hundred
            // per second. A flood is orders of magnitude faster; this bound still stops one.
            .decoderEnforceMaxRstFramesPerWindow(MAX_RST_FRAMES_PER_WINDOW, RST_WINDOW_SECONDS)
            .build();
    long idle = limits.idleTimeout().toMillis();
    p.addLast(IDLE, new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS));
    p.addLast(IDLE_CLOSE, new IdleClose(codec));
    // One flush (one TLS record, one syscall) per event-loop turn instead of one per frame: a
    // unary response is HEADERS, DATA and trailers, each flushed by the other side's stream.
    p.addLast(FLUSH, new FlushConsolidationHandler(256, true));
    p.addLast(CODEC, codec);
    p.addLast(STREAMS, new DownstreamStreams(ctx));
    p.addLast(CONNECTION_ERRORS, new ConnectionErrors());
    Channel ch = p.channel();
    if (ch.isActive()) {
      ch.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - 65_535));
    }
  }

  /** Closes (GOAWAY) a connection idle with no open stream. */
  private static final class IdleClose extends ChannelInboundHandlerAdapter {
    private final Http2FrameCodec codec;

    IdleClose(Http2FrameCodec codec) {
      this.codec = codec;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent && codec.connection().numActiveStreams() == 0) {
        // Through the whole pipeline, so the codec sends GOAWAY before closing.
        ctx.channel().close();
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }
  }

  /**
   * The end of the connection's pipeline. An HTTP/2 protocol error arrives here after the codec has
   * already answered it (GOAWAY or RST_STREAM with the right code; closing here would send
   * GOAWAY(NO_ERROR) first). Anything else is a transport error of the whole connection (the caller
   * reset it, a read failed): close it. Both are logged at debug, since a caller going away is
   * routine for a proxy.
   */
  private static final class ConnectionErrors extends ChannelInboundHandlerAdapter {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      boolean protocol = Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null;
      log.debug(
          "downstream.connection.error remote={} protocol={} cause={}",
          ctx.channel().remoteAddress(),
          protocol,
          cause.toString());
      if (!protocol) {
        ctx.close();
      }
    }
  }
}
